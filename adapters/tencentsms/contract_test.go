package tencentsms_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/sendertest"
	"github.com/lemonmall/verifyd/adapters/tencentsms"
	"github.com/lemonmall/verifyd/domain"
)

const (
	testSecretID  = "AKIDtest000000000000000000000000"
	testSecretKey = "testkey000000000000000000000000"
	testAppID     = "1400000001"
	testSign      = "verifyd"
	testTemplate  = "1234567"
)

func hmacSHA256(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// checkTC3 verifies a request's TC3-HMAC-SHA256 signature as Tencent Cloud
// documents it, independently of the SDK that made it.
func checkTC3(r *http.Request, body []byte) error {
	ts := r.Header.Get("X-TC-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("no X-TC-Timestamp")
	}
	date := time.Unix(sec, 0).UTC().Format("2006-01-02")
	canonical := "POST\n/\n\ncontent-type:" + r.Header.Get("Content-Type") + "\nhost:" + r.Host + "\n\ncontent-type;host\n" + sha256Hex(body)
	scope := date + "/sms/tc3_request"
	toSign := "TC3-HMAC-SHA256\n" + ts + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
	key := hmacSHA256(hmacSHA256(hmacSHA256([]byte("TC3"+testSecretKey), date), "sms"), "tc3_request")
	want := "TC3-HMAC-SHA256 Credential=" + testSecretID + "/" + scope + ", SignedHeaders=content-type;host, Signature=" +
		hex.EncodeToString(hmacSHA256(key, toSign))
	if got := r.Header.Get("Authorization"); got != want {
		return fmt.Errorf("AuthFailure.SignatureFailure: Authorization %q, want %q", got, want)
	}
	return nil
}

// ParseRequest checks a SendSms call as Tencent Cloud does and returns the
// number and the code.
func ParseRequest(r *http.Request) (sendertest.Request, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return sendertest.Request{}, err
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("Content-Type") != "application/json" {
		return sendertest.Request{}, fmt.Errorf("%s %s (%s), want a JSON POST to /", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	for h, want := range map[string]string{"X-TC-Action": "SendSms", "X-TC-Version": "2021-01-11", "X-TC-Region": "ap-guangzhou"} {
		if got := r.Header.Get(h); got != want {
			return sendertest.Request{}, fmt.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if err := checkTC3(r, body); err != nil {
		return sendertest.Request{}, err
	}
	var p struct {
		PhoneNumberSet   []string
		SmsSdkAppId      string
		SignName         string
		TemplateId       string
		TemplateParamSet []string
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return sendertest.Request{}, err
	}
	if p.SmsSdkAppId != testAppID || p.SignName != testSign || p.TemplateId != testTemplate ||
		len(p.PhoneNumberSet) != 1 || len(p.TemplateParamSet) != 2 || p.TemplateParamSet[1] != "5" {
		return sendertest.Request{}, fmt.Errorf("parameters %+v", p)
	}
	return sendertest.Request{To: p.PhoneNumberSet[0], Code: p.TemplateParamSet[0]}, nil
}

const requestID = "a0aabda6-cf91-4f3e-a81f-9198114a2279"

// status answers with one SendStatusSet entry.
func status(code, message string) func(w http.ResponseWriter, to, smsCode string) {
	return func(w http.ResponseWriter, to, _ string) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"Response": map[string]any{
			"SendStatusSet": []map[string]any{{
				"SerialNo": "5000:1045710669157053657849499619", "PhoneNumber": to, "Fee": 1, "SessionContext": "",
				"Code": code, "Message": strings.ReplaceAll(message, "{to}", to), "IsoCode": "CN",
			}},
			"RequestId": requestID,
		}})
	}
}

// callError answers with an error for the whole call.
func callError(code, message string) func(w http.ResponseWriter, to, smsCode string) {
	return func(w http.ResponseWriter, to, _ string) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"Response": map[string]any{
			"Error":     map[string]string{"Code": code, "Message": strings.ReplaceAll(message, "{to}", to)},
			"RequestId": requestID,
		}})
	}
}

func newSender(t *testing.T, baseURL string, timeout time.Duration) domain.SMSSender {
	t.Helper()
	s, err := tencentsms.NewSender(tencentsms.Config{
		SecretID: testSecretID, SecretKey: testSecretKey, SDKAppID: testAppID, SignName: testSign,
		TemplateID: testTemplate, Endpoint: baseURL, Timeout: timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSender_Contract(t *testing.T) {
	sendertest.Run(t, sendertest.Provider{
		Name:      "tencent",
		NewSender: newSender,
		Parse:     ParseRequest,
		WireTo:    func(e164 string) string { return e164 },
		Replies: []sendertest.Reply{
			{Name: "Ok", Class: sendertest.Accepted, Write: status("Ok", "send success")},
			{Name: "number frequency limit", Class: sendertest.Retryable, Write: status("LimitExceeded.PhoneNumberThirtySecondLimit", "the number {to} exceeds the 30-second limit")},
			{Name: "internal error", Class: sendertest.Retryable, Write: callError("InternalError.Timeout", "request timed out")},
			{Name: "API rate limit", Class: sendertest.Retryable, Write: callError("RequestLimitExceeded", "request limit exceeded")},
			{Name: "bad signature", Class: sendertest.Retryable, Write: callError("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")},
			{Name: "HTTP 502", Class: sendertest.Retryable, Write: func(w http.ResponseWriter, to, _ string) {
				http.Error(w, "bad gateway for "+to, http.StatusBadGateway)
			}},
			{Name: "invalid number", Class: sendertest.Permanent, Write: status("InvalidParameterValue.IncorrectPhoneNumber", "incorrect phone number {to}")},
			{Name: "blacklisted number", Class: sendertest.Permanent, Write: status("FailedOperation.PhoneNumberInBlacklist", "the number is in the blacklist")},
		},
	})
}

func TestConfig_Validate(t *testing.T) {
	valid := tencentsms.Config{SecretID: testSecretID, SecretKey: testSecretKey, SDKAppID: testAppID, SignName: testSign, TemplateID: testTemplate}
	for name, c := range map[string]struct {
		mutate func(*tencentsms.Config)
		ok     bool
	}{
		"valid":          {func(*tencentsms.Config) {}, true},
		"local endpoint": {func(c *tencentsms.Config) { c.Endpoint = "http://127.0.0.1:9999" }, true},
		"no secret id":   {func(c *tencentsms.Config) { c.SecretID = "" }, false},
		"no secret key":  {func(c *tencentsms.Config) { c.SecretKey = "" }, false},
		"no app id":      {func(c *tencentsms.Config) { c.SDKAppID = "" }, false},
		"no sign name":   {func(c *tencentsms.Config) { c.SignName = "" }, false},
		"no template":    {func(c *tencentsms.Config) { c.TemplateID = "" }, false},
		"path endpoint":  {func(c *tencentsms.Config) { c.Endpoint = "https://sms.tencentcloudapi.com/x" }, false},
	} {
		cc := valid
		c.mutate(&cc)
		_, err := tencentsms.NewSender(cc)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), testSecretKey) {
			t.Errorf("%s: error echoes the secret key", name)
		}
	}
}
