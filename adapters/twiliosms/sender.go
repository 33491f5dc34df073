// Package twiliosms sends SMS through Twilio's Programmable Messaging API
// (POST /2010-04-01/Accounts/{AccountSid}/Messages.json) using twilio-go.
package twiliosms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/lemonmall/verifyd/adapters/smstext"
	"github.com/lemonmall/verifyd/domain"
)

// provider is the SendError.Provider of every error this package returns.
const provider = "twilio"

// DefaultTimeout bounds one SendSMS call when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Twilio error codes that get a readable reason. See
// https://www.twilio.com/docs/api/errors.
const (
	codeRegionNotEnabled = 21408
	codeInvalidTo        = 21211
	codeUnsubscribed     = 21610
	codeNotMobile        = 21614
	codeTooManyRequests  = 20429
)

var knownReasons = map[int]string{
	codeInvalidTo:        "invalid 'To' number",
	codeNotMobile:        "'To' number is not a mobile number",
	codeUnsubscribed:     "recipient has unsubscribed (replied STOP)",
	codeRegionNotEnabled: "sending to this region is not enabled on the account",
	codeTooManyRequests:  "too many requests",
}

// Config holds the Twilio credentials and sender identity. Credentials are
// always passed explicitly: the sender never reads TWILIO_* variables.
type Config struct {
	// AccountSID ("AC" + 32 hex digits) and AuthToken authenticate requests.
	AccountSID string
	AuthToken  string
	// FromNumber is the sender (E.164 number, short code or alphanumeric
	// sender ID); MessagingServiceSID ("MG...") selects a Messaging Service.
	// At least one is required; with both, Twilio sends from FromNumber
	// with the service's features.
	FromNumber          string
	MessagingServiceSID string
	// APIBaseURL, when set, replaces the scheme and host of every request
	// (path and query kept), e.g. "http://127.0.0.1:9999" for a local fake.
	APIBaseURL string
	// Timeout bounds one SendSMS call; zero means DefaultTimeout.
	Timeout time.Duration
}

// Validate reports the first setting that cannot work. It never echoes the
// auth token.
func (c Config) Validate() error {
	switch {
	case c.AccountSID == "":
		return errors.New("twilio: account SID is required")
	case !isSID(c.AccountSID, "AC"):
		return errors.New(`twilio: account SID must be "AC" followed by 32 hex digits`)
	case c.AuthToken == "":
		return errors.New("twilio: auth token is required")
	case !isAlphanumeric(c.AuthToken):
		// twilio-go refuses any other token at request time.
		return errors.New("twilio: auth token must contain only letters and digits")
	case strings.TrimSpace(c.FromNumber) == "" && strings.TrimSpace(c.MessagingServiceSID) == "":
		return errors.New("twilio: a from number or a messaging service SID is required")
	case c.FromNumber != "" && !isSender(c.FromNumber):
		return errors.New("twilio: from number must be an E.164 number (+15005550006), a short code or an alphanumeric sender ID of up to 11 characters")
	case c.MessagingServiceSID != "" && !isSID(c.MessagingServiceSID, "MG"):
		return errors.New(`twilio: messaging service SID must be "MG" followed by 32 hex digits`)
	case c.Timeout < 0:
		return errors.New("twilio: timeout must not be negative")
	}
	if c.APIBaseURL != "" {
		if _, err := parseBaseURL(c.APIBaseURL); err != nil {
			return err
		}
	}
	return nil
}

func isSID(s, prefix string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, prefix) {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// isSender accepts the From values Twilio does: an E.164 number, a short
// code (3 to 8 digits) or an alphanumeric sender ID (1 to 11 letters, digits
// and spaces, at least one letter).
func isSender(s string) bool {
	digits := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return s != ""
	}
	switch {
	case strings.HasPrefix(s, "+"):
		_, err := domain.NewPhoneNumber(s, "", domain.LineUnknown)
		return err == nil
	case digits(s):
		return len(s) >= 3 && len(s) <= 8
	}
	if len(s) > 11 || strings.TrimSpace(s) != s {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			letter = true
		case '0' <= c && c <= '9' || c == ' ':
		default:
			return false
		}
	}
	return letter
}

func isAlphanumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// parseBaseURL accepts an absolute http(s) URL made of scheme and host only
// (a trailing "/" is tolerated): a path would be silently dropped otherwise.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("twilio: API base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("twilio: API base URL %q must be an absolute http or https URL", raw)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("twilio: API base URL %q must be scheme and host only", raw)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// Sender sends SMS with Twilio. It is safe for concurrent use.
type Sender struct {
	cfg       Config
	text      *smstext.Renderer
	baseURL   *url.URL // nil: the URLs twilio-go builds
	transport http.RoundTripper
}

var _ domain.SMSSender = (*Sender)(nil)

// NewSender validates cfg and returns a Sender writing message texts with
// text.
func NewSender(cfg Config, text *smstext.Renderer) (*Sender, error) {
	if text == nil {
		return nil, errors.New("twilio: nil text renderer")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	s := &Sender{cfg: cfg, text: text, transport: http.DefaultTransport.(*http.Transport).Clone()}
	if cfg.APIBaseURL != "" {
		s.baseURL, _ = parseBaseURL(cfg.APIBaseURL) // checked by Validate
	}
	return s, nil
}

// SendSMS creates one message with msg's text in its language. Any created
// message (queued, accepted, sending...) is a success. Failures are
// *domain.SendError values whose text holds neither the message body nor the
// full phone number.
func (s *Sender) SendSMS(ctx context.Context, msg domain.SMSMessage) (domain.SMSReceipt, error) {
	to, text := msg.To, s.text.Render(msg)
	if to.IsZero() {
		return domain.SMSReceipt{}, &domain.SendError{Provider: provider, Reason: "no recipient number"}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()

	rt := &callTransport{ctx: ctx, base: s.transport, baseURL: s.baseURL}
	rc := s.restClient(rt)

	params := &openapi.CreateMessageParams{}
	params.SetTo(to.E164())
	params.SetBody(text)
	if s.cfg.FromNumber != "" {
		params.SetFrom(s.cfg.FromNumber)
	}
	if s.cfg.MessagingServiceSID != "" {
		params.SetMessagingServiceSid(s.cfg.MessagingServiceSID)
	}

	created, err := rc.Api.CreateMessage(params)
	switch {
	case rt.status >= 200 && rt.status < 300:
		// Twilio answered 2xx: the message exists, even if reading or
		// decoding the body then failed. Sending again would duplicate it.
		receipt := domain.SMSReceipt{Provider: provider}
		if err == nil && created != nil && created.Sid != nil {
			receipt.Reference = *created.Sid
		}
		return receipt, nil
	case err != nil:
		return domain.SMSReceipt{}, mapError(err, rt.status, msg, text)
	default:
		return domain.SMSReceipt{}, &domain.SendError{
			Provider: provider,
			Reason:   fmt.Sprintf("unexpected HTTP status %d", rt.status),
		}
	}
}

// restClient builds a client for one call, so the call's transport (and with
// it ctx) cannot leak into a concurrent call. Building one is a handful of
// small allocations, negligible next to an HTTPS round trip.
func (s *Sender) restClient(rt http.RoundTripper) *twilio.RestClient {
	c := &twclient.Client{
		Credentials: twclient.NewCredentials(s.cfg.AccountSID, s.cfg.AuthToken),
		HTTPClient: &http.Client{
			Transport: rt,
			// Twilio does not redirect API calls; twilio-go's default
			// client does not follow redirects either.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			// No Timeout here: the deadline is on the call's ctx.
		},
	}
	c.SetAccountSid(s.cfg.AccountSID)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})
	// The request handler picks up TWILIO_EDGE and TWILIO_REGION from the
	// environment; configuration is explicit here, so clear them.
	rc.RequestHandler.Edge = ""
	rc.RequestHandler.Region = ""
	return rc
}

// callTransport applies one call's ctx to the requests twilio-go builds with
// context.Background(), points them at the configured base URL, and records
// the HTTP status of the response.
type callTransport struct {
	ctx     context.Context
	base    http.RoundTripper
	baseURL *url.URL
	status  int // written and read on the calling goroutine only
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(t.ctx) // Clone copies URL and headers deeply
	if t.baseURL != nil {
		r.URL.Scheme = t.baseURL.Scheme
		r.URL.Host = t.baseURL.Host
		r.Host = ""
	}
	resp, err := t.base.RoundTrip(r)
	if err == nil {
		t.status = resp.StatusCode
	}
	return resp, err
}

// mapError turns a twilio-go error into a *domain.SendError. status is the
// HTTP status seen on the wire, 0 when no response arrived; text is the body
// sent, which an error may quote.
func mapError(err error, status int, msg domain.SMSMessage, text string) error {
	var restErr *twclient.TwilioRestError
	var restErrV1 *twclient.RestErrorV1
	switch {
	case errors.As(err, &restErr):
		if status == 0 {
			status = restErr.Status
		}
		m := scrub(restErr.Message, msg, text)
		return apiError(status, restErr.Code, m, &twclient.TwilioRestError{
			Code: restErr.Code, Status: restErr.Status, Message: m, MoreInfo: restErr.MoreInfo,
		})
	case errors.As(err, &restErrV1):
		if status == 0 {
			status = restErrV1.HttpStatusCode
		}
		m := scrub(restErrV1.Message, msg, text)
		return apiError(status, restErrV1.Code, m, &twclient.RestErrorV1{
			Code: restErrV1.Code, HttpStatusCode: restErrV1.HttpStatusCode, Message: m, UserError: restErrV1.UserError,
		})
	case status != 0:
		// An error status whose body was not Twilio's JSON (a proxy page).
		return apiError(status, 0, "response is not a Twilio error", nil)
	}
	// No response: connection refused, reset, DNS, TLS, timeout, cancel.
	// Twilio creates no message for a request it never fully received.
	return msg.TransportError(provider, err)
}

func apiError(status, code int, msg string, cause error) *domain.SendError {
	// Rejected credentials are the account's trouble, not the number's: as
	// with every provider, only a refusal of the number is permanent, so a
	// failover list can still deliver through the next provider.
	retryable := status == http.StatusTooManyRequests || code == codeTooManyRequests || status >= 500 ||
		status == http.StatusUnauthorized
	reason := knownReasons[code]
	switch {
	case reason != "" && msg != "":
		reason += ": " + msg
	case reason == "" && msg != "":
		reason = msg
	case reason == "":
		reason = "request refused"
	}
	return &domain.SendError{
		Provider:  provider,
		Code:      code,
		Retryable: retryable,
		Reason:    fmt.Sprintf("HTTP %d: %s", status, reason),
		Err:       cause,
	}
}

// scrub keeps the message body, the code and phone numbers out of error
// text: the body is removed, then msg.Redact masks the rest.
func scrub(s string, msg domain.SMSMessage, text string) string {
	if text != "" {
		s = strings.ReplaceAll(s, text, "[body]")
	}
	return msg.Redact(s)
}
