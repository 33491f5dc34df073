package aliyunsms_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/aliyunsms"
	"github.com/lemonmall/verifyd/adapters/sendertest"
	"github.com/lemonmall/verifyd/domain"
)

const (
	testKeyID     = "LTAI5tTestKeyId00000000"
	testKeySecret = "testsecret0000000000000000000000"
	testSign      = "verifyd"
	testTemplate  = "SMS_123456789"
)

// ParseRequest checks a SendSms request as Alibaba Cloud does (method,
// fixed parameters, signature) and returns the number and the code.
func ParseRequest(r *http.Request) (sendertest.Request, error) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return sendertest.Request{}, fmt.Errorf("%s %s, want POST /", r.Method, r.URL.Path)
	}
	if err := r.ParseForm(); err != nil {
		return sendertest.Request{}, err
	}
	f := r.PostForm
	for k, want := range map[string]string{
		"Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "SignatureMethod": "HMAC-SHA1",
		"SignatureVersion": "1.0", "AccessKeyId": testKeyID, "SignName": testSign, "TemplateCode": testTemplate,
	} {
		if f.Get(k) != want {
			return sendertest.Request{}, fmt.Errorf("%s = %q, want %q", k, f.Get(k), want)
		}
	}
	if _, err := time.Parse("2006-01-02T15:04:05Z", f.Get("Timestamp")); err != nil || f.Get("SignatureNonce") == "" {
		return sendertest.Request{}, errors.New("timestamp or nonce missing")
	}
	if got, want := f.Get("Signature"), aliyunsms.Sign(http.MethodPost, f, testKeySecret); got != want {
		return sendertest.Request{}, fmt.Errorf("SignatureDoesNotMatch: got %s, want %s", got, want)
	}
	var param struct{ Code string }
	if err := json.Unmarshal([]byte(f.Get("TemplateParam")), &param); err != nil {
		return sendertest.Request{}, fmt.Errorf("TemplateParam: %w", err)
	}
	return sendertest.Request{To: f.Get("PhoneNumbers"), Code: param.Code}, nil
}

func answer(status int, code, message string) func(w http.ResponseWriter, to, smsCode string) {
	return func(w http.ResponseWriter, to, _ string) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(status)
		body := map[string]string{"Code": code, "Message": strings.ReplaceAll(message, "{to}", to), "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"}
		if code == "OK" {
			body["BizId"] = "900619746936498440^0"
		}
		_ = json.NewEncoder(w).Encode(body)
	}
}

func newSender(t *testing.T, baseURL string, timeout time.Duration) domain.SMSSender {
	t.Helper()
	s, err := aliyunsms.NewSender(aliyunsms.Config{
		AccessKeyID: testKeyID, AccessKeySecret: testKeySecret, SignName: testSign, TemplateCode: testTemplate,
		Endpoint: baseURL, Timeout: timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSender_Contract(t *testing.T) {
	sendertest.Run(t, sendertest.Provider{
		Name:      "aliyun",
		NewSender: newSender,
		Parse:     ParseRequest,
		WireTo:    func(e164 string) string { return strings.TrimPrefix(e164, "+") },
		Replies: []sendertest.Reply{
			{Name: "OK", Class: sendertest.Accepted, Write: answer(200, "OK", "OK")},
			{Name: "throttled", Class: sendertest.Retryable, Write: answer(200, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1 for {to}")},
			{Name: "API throttling", Class: sendertest.Retryable, Write: answer(400, "Throttling.User", "Request was denied due to user flow control.")},
			{Name: "system error", Class: sendertest.Retryable, Write: answer(200, "isp.SYSTEM_ERROR", "isp.SYSTEM_ERROR")},
			{Name: "out of balance", Class: sendertest.Retryable, Write: answer(200, "isv.AMOUNT_NOT_ENOUGH", "账户余额不足")},
			{Name: "bad credentials", Class: sendertest.Retryable, Write: answer(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")},
			{Name: "HTTP 503", Class: sendertest.Retryable, Write: func(w http.ResponseWriter, _, _ string) {
				http.Error(w, "<html>503 Service Temporarily Unavailable</html>", http.StatusServiceUnavailable)
			}},
			{Name: "invalid number", Class: sendertest.Permanent, Write: answer(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号 {to}")},
			{Name: "number over limit", Class: sendertest.Permanent, Write: answer(200, "isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制")},
		},
	})
}

func TestConfig_Validate(t *testing.T) {
	valid := aliyunsms.Config{AccessKeyID: testKeyID, AccessKeySecret: testKeySecret, SignName: testSign, TemplateCode: testTemplate}
	for name, c := range map[string]struct {
		mutate func(*aliyunsms.Config)
		ok     bool
	}{
		"valid":            {func(*aliyunsms.Config) {}, true},
		"local endpoint":   {func(c *aliyunsms.Config) { c.Endpoint = "http://127.0.0.1:9999" }, true},
		"no key id":        {func(c *aliyunsms.Config) { c.AccessKeyID = "" }, false},
		"no secret":        {func(c *aliyunsms.Config) { c.AccessKeySecret = "" }, false},
		"no sign name":     {func(c *aliyunsms.Config) { c.SignName = "" }, false},
		"no template":      {func(c *aliyunsms.Config) { c.TemplateCode = "" }, false},
		"relative URL":     {func(c *aliyunsms.Config) { c.Endpoint = "dysmsapi.aliyuncs.com" }, false},
		"URL with a query": {func(c *aliyunsms.Config) { c.Endpoint = "https://dysmsapi.aliyuncs.com/?a=b" }, false},
	} {
		err := func() error { cc := valid; c.mutate(&cc); _, err := aliyunsms.NewSender(cc); return err }()
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), testKeySecret) {
			t.Errorf("%s: error echoes the secret", name)
		}
	}
}
