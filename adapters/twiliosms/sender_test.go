package twiliosms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/smstext"
	"github.com/lemonmall/verifyd/domain"
)

const (
	testSID     = "AC0123456789abcdef0123456789abcdef"
	testToken   = "0123456789abcdef0123456789abcdef"
	testService = "MG0123456789abcdef0123456789abcdef"
	testFrom    = "+15005550006"
	testBody    = "Your verification code is 482913. It expires in 5 minutes."
)

// seenRequest is what the fake Twilio received.
type seenRequest struct {
	Method, Path, ContentType string
	User, Pass                string
	AuthOK                    bool
	Form                      url.Values
}

// fakeTwilio speaks enough of Twilio's Messages API for these tests: it
// records each request and answers with reply.
type fakeTwilio struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

func newFakeTwilio(t *testing.T, reply http.HandlerFunc) *fakeTwilio {
	t.Helper()
	f := &fakeTwilio{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		_ = r.ParseForm()
		f.mu.Lock()
		f.seen = append(f.seen, seenRequest{
			Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
			User: user, Pass: pass, AuthOK: ok, Form: r.PostForm,
		})
		f.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+testSID+"/Messages.json" {
			writeTwilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
			return
		}
		if !ok || user != testSID || pass != testToken {
			writeTwilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
			return
		}
		reply(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeTwilio) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

func writeTwilioError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code":      code,
		"message":   message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
}

// createdMessage answers like Twilio does for a created message resource.
func createdMessage(status string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		msg := map[string]any{
			"sid":          "SM0123456789abcdef0123456789abcdef",
			"account_sid":  testSID,
			"to":           r.PostForm.Get("To"),
			"body":         r.PostForm.Get("Body"),
			"status":       status,
			"num_segments": "1",
			"direction":    "outbound-api",
			"api_version":  "2010-04-01",
			"uri":          "/2010-04-01/Accounts/" + testSID + "/Messages/SM0123456789abcdef0123456789abcdef.json",
		}
		if from := r.PostForm.Get("From"); from != "" {
			msg["from"] = from
		}
		if svc := r.PostForm.Get("MessagingServiceSid"); svc != "" {
			msg["messaging_service_sid"] = svc
		}
		_ = json.NewEncoder(w).Encode(msg)
	}
}

func phone(t *testing.T, e164 string) domain.PhoneNumber {
	t.Helper()
	p, err := domain.NewPhoneNumber(e164, "US", domain.LineMobile)
	if err != nil {
		t.Fatalf("NewPhoneNumber(%q): %v", e164, err)
	}
	return p
}

func newTestSender(t *testing.T, baseURL string, mutate func(*Config)) *Sender {
	t.Helper()
	cfg := Config{AccountSID: testSID, AuthToken: testToken, FromNumber: testFrom, APIBaseURL: baseURL}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := NewSender(cfg, testRenderer(t))
	if err != nil {
		t.Fatalf("NewSender: %v", err)
	}
	return s
}

func testRenderer(t *testing.T) *smstext.Renderer {
	t.Helper()
	r, err := smstext.NewRenderer(smstext.Templates{}, domain.English)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// send sends the code 482913, valid 5 minutes, whose English text is
// testBody.
func send(ctx context.Context, s *Sender, to domain.PhoneNumber) error {
	now := time.Now()
	receipt, err := s.SendSMS(ctx, domain.SMSMessage{ID: "m1", To: to, Code: "482913", CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)})
	if err == nil && (receipt.Provider != "twilio" || !strings.HasPrefix(receipt.Reference, "SM")) {
		return fmt.Errorf("receipt %+v: want twilio and the message SID", receipt)
	}
	return err
}

func TestSender_CreatesMessageFromNumber(t *testing.T) {
	fake := newFakeTwilio(t, createdMessage("queued"))
	s := newTestSender(t, fake.URL, nil)

	if err := send(context.Background(), s, phone(t, "+14155550123")); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}

	reqs := fake.requests()
	if len(reqs) != 1 {
		t.Fatalf("want 1 request, got %d", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/2010-04-01/Accounts/"+testSID+"/Messages.json" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if !strings.HasPrefix(r.ContentType, "application/x-www-form-urlencoded") {
		t.Errorf("Content-Type = %q", r.ContentType)
	}
	if !r.AuthOK || r.User != testSID || r.Pass != testToken {
		t.Errorf("basic auth = %q:%q (present %v)", r.User, r.Pass, r.AuthOK)
	}
	want := url.Values{"To": {"+14155550123"}, "From": {testFrom}, "Body": {testBody}}
	if got := r.Form; !equalForms(got, want) {
		t.Errorf("form = %v, want %v", got, want)
	}
}

func TestSender_CreatesMessageThroughMessagingService(t *testing.T) {
	fake := newFakeTwilio(t, createdMessage("accepted"))
	s := newTestSender(t, fake.URL, func(c *Config) {
		c.FromNumber = ""
		c.MessagingServiceSID = testService
	})

	if err := send(context.Background(), s, phone(t, "+14155550123")); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}

	reqs := fake.requests()
	if len(reqs) != 1 {
		t.Fatalf("want 1 request, got %d", len(reqs))
	}
	want := url.Values{"To": {"+14155550123"}, "MessagingServiceSid": {testService}, "Body": {testBody}}
	if got := reqs[0].Form; !equalForms(got, want) {
		t.Errorf("form = %v, want %v", got, want)
	}
}

func equalForms(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if len(a[k]) != len(v) {
			return false
		}
		for i := range v {
			if a[k][i] != v[i] {
				return false
			}
		}
	}
	return true
}

func TestSender_MapsTwilioErrors(t *testing.T) {
	const to = "+15005550001"
	tests := []struct {
		name      string
		status    int
		code      int
		message   string
		retryable bool
	}{
		{"invalid number", 400, 21211, "The 'To' number " + to + " is not a valid phone number.", false},
		{"not a mobile", 400, 21614, "'To' number " + to + " is not a valid mobile number", false},
		{"unsubscribed", 400, 21610, "Attempt to send to unsubscribed recipient", false},
		{"region not enabled", 400, 21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: " + to, false},
		{"bad credentials", 401, 20003, "Authenticate", true},
		{"other client error echoing the body", 400, 21602, "Message body '" + testBody + "' is invalid", false},
		{"rate limited", 429, 20429, "Too Many Requests", true},
		{"rate limit code on a 400", 400, 20429, "Too Many Requests", true},
		{"internal error", 500, 20500, "Internal Server Error", true},
		{"unavailable", 503, 20503, "Service Unavailable", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeTwilio(t, func(w http.ResponseWriter, _ *http.Request) {
				writeTwilioError(w, tt.status, tt.code, tt.message)
			})
			s := newTestSender(t, fake.URL, nil)

			err := send(context.Background(), s, phone(t, to))

			var se *domain.SendError
			if !errors.As(err, &se) {
				t.Fatalf("want *domain.SendError, got %T %v", err, err)
			}
			if se.Provider != "twilio" || se.Code != tt.code || se.Retryable != tt.retryable {
				t.Errorf("got provider %q code %d retryable %v, want twilio %d %v",
					se.Provider, se.Code, se.Retryable, tt.code, tt.retryable)
			}
			if domain.IsRetryableSend(err) != tt.retryable {
				t.Errorf("IsRetryableSend = %v, want %v", !tt.retryable, tt.retryable)
			}
			assertNoLeak(t, err, to)
		})
	}
}

// assertNoLeak fails when the full number, its national digits or the body
// show up anywhere in err's chain.
func assertNoLeak(t *testing.T, err error, to string) {
	t.Helper()
	for e := err; e != nil; e = errors.Unwrap(e) {
		text := e.Error()
		for _, secret := range []string{to, strings.TrimPrefix(to, "+"), to[2:], testBody, "482913"} {
			if strings.Contains(text, secret) {
				t.Errorf("error text %q contains %q", text, secret)
			}
		}
	}
}

func TestSender_ScrubsNumberDownToLastFourDigits(t *testing.T) {
	fake := newFakeTwilio(t, func(w http.ResponseWriter, _ *http.Request) {
		writeTwilioError(w, 400, 21211, "The 'To' number +15005550001 is not a valid phone number.")
	})
	s := newTestSender(t, fake.URL, nil)

	err := send(context.Background(), s, phone(t, "+15005550001"))

	if err == nil || !strings.Contains(err.Error(), "0001") {
		t.Fatalf("want an error naming the last four digits, got %v", err)
	}
	assertNoLeak(t, err, "+15005550001")
}

func TestSender_ErrorStatusWithoutTwilioBody(t *testing.T) {
	tests := []struct {
		status    int
		retryable bool
	}{
		{http.StatusBadGateway, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusForbidden, false},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			fake := newFakeTwilio(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte("<html>upstream trouble</html>"))
			})
			s := newTestSender(t, fake.URL, nil)

			err := send(context.Background(), s, phone(t, "+14155550123"))

			if err == nil || domain.IsRetryableSend(err) != tt.retryable {
				t.Fatalf("got %v (retryable %v), want retryable %v", err, domain.IsRetryableSend(err), tt.retryable)
			}
		})
	}
}

// blockingTwilio accepts a request and never answers until the test ends.
func blockingTwilio(t *testing.T) (*fakeTwilio, <-chan struct{}) {
	t.Helper()
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	fake := newFakeTwilio(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // runs before fake.Close
	return fake, arrived
}

func TestSender_HonoursCallerDeadline(t *testing.T) {
	fake, _ := blockingTwilio(t)
	s := newTestSender(t, fake.URL, func(c *Config) { c.Timeout = time.Hour })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	err := send(ctx, s, phone(t, "+14155550123"))

	if !errors.Is(err, context.DeadlineExceeded) || !domain.IsRetryableSend(err) {
		t.Fatalf("want a retryable deadline error, got %v", err)
	}
	assertNoLeak(t, err, "+14155550123")
}

func TestSender_HonoursCallerCancel(t *testing.T) {
	fake, arrived := blockingTwilio(t)
	s := newTestSender(t, fake.URL, func(c *Config) { c.Timeout = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()

	err := send(ctx, s, phone(t, "+14155550123"))

	if !errors.Is(err, context.Canceled) || !domain.IsRetryableSend(err) {
		t.Fatalf("want a retryable cancellation error, got %v", err)
	}
}

func TestSender_HonoursConfiguredTimeout(t *testing.T) {
	fake, _ := blockingTwilio(t)
	s := newTestSender(t, fake.URL, func(c *Config) { c.Timeout = 50 * time.Millisecond })

	err := send(context.Background(), s, phone(t, "+14155550123"))

	if !errors.Is(err, context.DeadlineExceeded) || !domain.IsRetryableSend(err) {
		t.Fatalf("want a retryable timeout error, got %v", err)
	}
}

func TestSender_NetworkErrorIsRetryable(t *testing.T) {
	fake := newFakeTwilio(t, createdMessage("queued"))
	base := fake.URL
	fake.Close() // nothing listens there any more

	s := newTestSender(t, base, nil)
	err := send(context.Background(), s, phone(t, "+14155550123"))

	var se *domain.SendError
	if !errors.As(err, &se) || !se.Retryable {
		t.Fatalf("want a retryable *domain.SendError, got %v", err)
	}
	assertNoLeak(t, err, "+14155550123")
}

func TestSender_IgnoresTwilioEnvironment(t *testing.T) {
	t.Setenv("TWILIO_ACCOUNT_SID", "AC"+strings.Repeat("f", 32))
	t.Setenv("TWILIO_AUTH_TOKEN", strings.Repeat("e", 32))
	t.Setenv("TWILIO_EDGE", "sydney")
	t.Setenv("TWILIO_REGION", "au1")
	fake := newFakeTwilio(t, createdMessage("queued"))
	s := newTestSender(t, fake.URL, nil)

	if err := send(context.Background(), s, phone(t, "+14155550123")); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if r := fake.requests()[0]; r.User != testSID || r.Pass != testToken {
		t.Errorf("credentials sent = %q:%q, want the configured ones", r.User, r.Pass)
	}
	rc := s.restClient(http.DefaultTransport)
	if rc.RequestHandler.Edge != "" || rc.RequestHandler.Region != "" {
		t.Errorf("edge/region = %q/%q, want none", rc.RequestHandler.Edge, rc.RequestHandler.Region)
	}
	got, err := rc.RequestHandler.BuildUrl("https://api.twilio.com/2010-04-01/Accounts")
	if err != nil || got != "https://api.twilio.com/2010-04-01/Accounts" {
		t.Errorf("BuildUrl = %q, %v", got, err)
	}
}

func TestConfig_Validate(t *testing.T) {
	valid := Config{AccountSID: testSID, AuthToken: testToken, FromNumber: testFrom}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr bool
	}{
		{"from number", func(*Config) {}, false},
		{"messaging service only", func(c *Config) { c.FromNumber = ""; c.MessagingServiceSID = testService }, false},
		{"both from and service", func(c *Config) { c.MessagingServiceSID = testService }, false},
		{"local http base URL", func(c *Config) { c.APIBaseURL = "http://127.0.0.1:9999" }, false},
		{"https base URL with slash", func(c *Config) { c.APIBaseURL = "https://twilio.example.test/" }, false},
		{"timeout", func(c *Config) { c.Timeout = 3 * time.Second }, false},
		{"missing SID", func(c *Config) { c.AccountSID = "" }, true},
		{"malformed SID", func(c *Config) { c.AccountSID = "SK0123456789abcdef0123456789abcdef" }, true},
		{"missing token", func(c *Config) { c.AuthToken = "" }, true},
		{"token with symbols", func(c *Config) { c.AuthToken = "secret/with+symbols" }, true},
		{"neither from nor service", func(c *Config) { c.FromNumber = "" }, true},
		{"blank from", func(c *Config) { c.FromNumber = "  " }, true},
		{"malformed service SID", func(c *Config) { c.MessagingServiceSID = "MGnope" }, true},
		{"short code from", func(c *Config) { c.FromNumber = "12345" }, false},
		{"alphanumeric sender ID", func(c *Config) { c.FromNumber = "Verifyd" }, false},
		{"from with a trailing newline", func(c *Config) { c.FromNumber = testFrom + "\n" }, true},
		{"national from number", func(c *Config) { c.FromNumber = "(500) 555-0006" }, true},
		{"sender ID too long", func(c *Config) { c.FromNumber = "VerifydSender" }, true},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, true},
		{"relative base URL", func(c *Config) { c.APIBaseURL = "127.0.0.1:9999" }, true},
		{"base URL without host", func(c *Config) { c.APIBaseURL = "http://" }, true},
		{"ftp base URL", func(c *Config) { c.APIBaseURL = "ftp://example.test" }, true},
		{"base URL with path", func(c *Config) { c.APIBaseURL = "http://127.0.0.1:9999/twilio" }, true},
		{"base URL with query", func(c *Config) { c.APIBaseURL = "http://127.0.0.1:9999?x=1" }, true},
		{"base URL with credentials", func(c *Config) { c.APIBaseURL = "http://u:p@127.0.0.1:9999" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.mutate(&cfg)
			err := cfg.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && cfg.AuthToken != "" && strings.Contains(err.Error(), cfg.AuthToken) {
				t.Errorf("error %q echoes the auth token", err)
			}
			if _, nerr := NewSender(cfg, testRenderer(t)); (nerr != nil) != tt.wantErr {
				t.Errorf("NewSender error = %v, wantErr %v", nerr, tt.wantErr)
			}
		})
	}
}

func TestScrub(t *testing.T) {
	msg := domain.SMSMessage{To: phone(t, "+15005550001"), Code: "246810"}
	tests := []struct{ in, want string }{
		{"The 'To' number +15005550001 is not a valid phone number.", "The 'To' number ********0001 is not a valid phone number."},
		{"number 15005550001 refused", "number ********0001 refused"},
		{"call +1 500-555-0002 now", "call ***********0002 now"},
		{"error code 20429 and 123456 stay", "error code 20429 and 123456 stay"},
		{"your code is 246810", "your code is [code]"},
		{"body: " + testBody, "body: [body]"},
	}
	for _, tt := range tests {
		if got := scrub(tt.in, msg, testBody); got != tt.want {
			t.Errorf("scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
