package twiliosms

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/sendertest"
	"github.com/lemonmall/verifyd/domain"
)

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// parseCreate checks a Messages create call as Twilio does and returns the
// number and the code in its body.
func parseCreate(r *http.Request) (sendertest.Request, error) {
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+testSID+"/Messages.json" {
		return sendertest.Request{}, fmt.Errorf("%s %s", r.Method, r.URL.Path)
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != testSID || pass != testToken {
		return sendertest.Request{}, fmt.Errorf("basic auth %q", user)
	}
	if err := r.ParseForm(); err != nil {
		return sendertest.Request{}, err
	}
	m := sixDigits.FindStringSubmatch(r.PostForm.Get("Body"))
	if m == nil || r.PostForm.Get("From") != testFrom {
		return sendertest.Request{}, fmt.Errorf("form %v", r.PostForm)
	}
	return sendertest.Request{To: r.PostForm.Get("To"), Code: m[1]}, nil
}

func twilioError(status, code int, message string) func(w http.ResponseWriter, to, smsCode string) {
	return func(w http.ResponseWriter, to, _ string) {
		writeTwilioError(w, status, code, fmt.Sprintf(message, to))
	}
}

func TestSender_Contract(t *testing.T) {
	sendertest.Run(t, sendertest.Provider{
		Name: "twilio",
		NewSender: func(t *testing.T, baseURL string, timeout time.Duration) domain.SMSSender {
			return newTestSender(t, baseURL, func(c *Config) { c.Timeout = timeout })
		},
		Parse:  parseCreate,
		WireTo: func(e164 string) string { return e164 },
		Replies: []sendertest.Reply{
			{Name: "created", Class: sendertest.Accepted, Write: func(w http.ResponseWriter, to, _ string) {
				createdMessage("queued")(w, &http.Request{PostForm: url.Values{"To": {to}, "From": {testFrom}}})
			}},
			{Name: "rate limited", Class: sendertest.Retryable, Write: twilioError(429, 20429, "Too Many Requests%.0s")},
			{Name: "unavailable", Class: sendertest.Retryable, Write: twilioError(503, 20503, "Service Unavailable%.0s")},
			{Name: "invalid number", Class: sendertest.Permanent, Write: twilioError(400, 21211, "The 'To' number %s is not a valid phone number.")},
			{Name: "not a mobile", Class: sendertest.Permanent, Write: twilioError(400, 21614, "'To' number %s is not a valid mobile number")},
		},
	})
}
