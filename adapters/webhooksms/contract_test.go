package webhooksms_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/sendertest"
	"github.com/lemonmall/verifyd/adapters/smstext"
	"github.com/lemonmall/verifyd/adapters/webhooksms"
	"github.com/lemonmall/verifyd/domain"
)

const testSecret = "webhook-secret-0123456789"

// ParseRequest checks a request as the package documents a receiver should:
// the signature over timestamp "." body, then the JSON payload.
func ParseRequest(r *http.Request) (sendertest.Request, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return sendertest.Request{}, err
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		return sendertest.Request{}, fmt.Errorf("%s with %q, want a JSON POST", r.Method, r.Header.Get("Content-Type"))
	}
	ts := r.Header.Get(webhooksms.TimestampHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return sendertest.Request{}, fmt.Errorf("timestamp %q is not recent", ts)
	}
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); !hmac.Equal([]byte(r.Header.Get(webhooksms.SignatureHeader)), []byte(want)) {
		return sendertest.Request{}, fmt.Errorf("signature %q, want %q", r.Header.Get(webhooksms.SignatureHeader), want)
	}
	var p webhooksms.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		return sendertest.Request{}, err
	}
	if p.ID == "" || p.ExpiresAt.IsZero() || !strings.Contains(p.Text, p.Code) || p.Lang != "en" {
		return sendertest.Request{}, fmt.Errorf("payload %s", body)
	}
	return sendertest.Request{To: p.To, Code: p.Code}, nil
}

func status(code int) func(w http.ResponseWriter, to, smsCode string) {
	return func(w http.ResponseWriter, to, smsCode string) {
		// A careless receiver may quote what it got.
		http.Error(w, "refused "+to+" "+smsCode, code)
	}
}

func renderer(t *testing.T) *smstext.Renderer {
	t.Helper()
	r, err := smstext.NewRenderer(smstext.Templates{}, domain.English)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSender_Contract(t *testing.T) {
	sendertest.Run(t, sendertest.Provider{
		Name: "webhook",
		NewSender: func(t *testing.T, baseURL string, timeout time.Duration) domain.SMSSender {
			s, err := webhooksms.NewSender(webhooksms.Config{URL: baseURL + "/sms", Secret: testSecret, Timeout: timeout}, renderer(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Parse:  ParseRequest,
		WireTo: func(e164 string) string { return e164 },
		Replies: []sendertest.Reply{
			{Name: "200", Class: sendertest.Accepted, Write: func(w http.ResponseWriter, _, _ string) { w.WriteHeader(http.StatusOK) }},
			{Name: "202", Class: sendertest.Accepted, Write: func(w http.ResponseWriter, _, _ string) { w.WriteHeader(http.StatusAccepted) }},
			{Name: "429", Class: sendertest.Retryable, Write: status(http.StatusTooManyRequests)},
			{Name: "500", Class: sendertest.Retryable, Write: status(http.StatusInternalServerError)},
			{Name: "503", Class: sendertest.Retryable, Write: status(http.StatusServiceUnavailable)},
			{Name: "400", Class: sendertest.Permanent, Write: status(http.StatusBadRequest)},
			{Name: "422", Class: sendertest.Permanent, Write: status(http.StatusUnprocessableEntity)},
		},
	})
}

func TestSender_WritesTheTextInTheMessageLanguage(t *testing.T) {
	got := make(chan webhooksms.Payload, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhooksms.Payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Errorf("payload: %v", err)
		}
		got <- p
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	s, err := webhooksms.NewSender(webhooksms.Config{URL: srv.URL, Secret: testSecret}, renderer(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendSMS(t.Context(), sendertest.Message(t, domain.Chinese)); err != nil {
		t.Fatal(err)
	}
	p := <-got
	if p.Lang != "zh" || p.Text != "您的验证码是482913，5分钟内有效。" || p.To != "+8613812345678" {
		t.Errorf("payload %+v", p)
	}
}

func TestConfig_Validate(t *testing.T) {
	for name, c := range map[string]struct {
		cfg webhooksms.Config
		ok  bool
	}{
		"valid":          {webhooksms.Config{URL: "https://sms.example.test/hook", Secret: testSecret}, true},
		"local http":     {webhooksms.Config{URL: "http://127.0.0.1:9999/", Secret: testSecret}, true},
		"no URL":         {webhooksms.Config{Secret: testSecret}, false},
		"relative URL":   {webhooksms.Config{URL: "/hook", Secret: testSecret}, false},
		"short secret":   {webhooksms.Config{URL: "https://sms.example.test/hook", Secret: "short"}, false},
		"URL with creds": {webhooksms.Config{URL: "https://u:p@sms.example.test/hook", Secret: testSecret}, false},
	} {
		err := c.cfg.Validate()
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), testSecret) {
			t.Errorf("%s: error echoes the secret", name)
		}
	}
}
