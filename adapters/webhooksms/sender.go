// Package webhooksms hands each SMS to an HTTP endpoint of the operator's
// own, for any provider verifyd has no adapter for: a signed JSON POST.
//
// The request body is
//
//	{"id":"…","to":"+8613812345678","text":"…","lang":"zh","code":"482913","expires_at":"2026-01-02T03:09:05Z"}
//
// with the text rendered from the configured per-language template. Headers
// X-Verifyd-Timestamp (Unix seconds) and X-Verifyd-Signature
// ("sha256=" + hex HMAC-SHA256 of the timestamp, ".", and the raw body, keyed
// with the shared secret) let the receiver check it: recompute the HMAC over
// the exact bytes received, compare in constant time, and refuse timestamps
// more than a few minutes old to stop replays. Any 2xx answer means sent;
// 429, 5xx and timeouts are retried; any other status is a permanent refusal
// of the message.
package webhooksms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/lemonmall/verifyd/adapters/smstext"
	"github.com/lemonmall/verifyd/domain"
)

// provider is the name in receipts and errors.
const provider = "webhook"

// Header names of the signature.
const (
	TimestampHeader = "X-Verifyd-Timestamp"
	SignatureHeader = "X-Verifyd-Signature"
)

// DefaultTimeout bounds one SendSMS call when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// MinSecretLength is the shortest accepted signing secret.
const MinSecretLength = 16

// Config says where messages go and how they are signed.
type Config struct {
	// URL receives the POSTs (VERIFY_SMS_WEBHOOK_URL).
	URL string
	// Secret keys the signature (VERIFY_SMS_WEBHOOK_SECRET).
	Secret string
	// Timeout bounds one SendSMS call; zero means DefaultTimeout.
	Timeout time.Duration
}

// Validate reports the first setting that cannot work, never echoing the
// secret.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return errors.New("webhook: URL is required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil:
		return fmt.Errorf("webhook: URL %q: want an absolute http or https URL without credentials", c.URL)
	case len(c.Secret) < MinSecretLength:
		return fmt.Errorf("webhook: secret must be at least %d bytes", MinSecretLength)
	case c.Timeout < 0:
		return errors.New("webhook: timeout must not be negative")
	}
	return nil
}

// Sender posts messages to the webhook. It is safe for concurrent use.
type Sender struct {
	cfg    Config
	text   *smstext.Renderer
	client *http.Client
	now    func() time.Time
}

var _ domain.SMSSender = (*Sender)(nil)

// NewSender validates cfg and returns a Sender writing texts with text.
func NewSender(cfg Config, text *smstext.Renderer) (*Sender, error) {
	if text == nil {
		return nil, errors.New("webhook: nil text renderer")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Sender{
		cfg:  cfg,
		text: text,
		client: &http.Client{
			Transport:     http.DefaultTransport.(*http.Transport).Clone(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now: time.Now,
	}, nil
}

// Payload is the JSON body of a webhook request.
type Payload struct {
	ID        string    `json:"id"`
	To        string    `json:"to"`
	Text      string    `json:"text"`
	Lang      string    `json:"lang"`
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Sign returns the X-Verifyd-Signature value for a timestamp and a body.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// SendSMS posts msg. The language is the message's, or the configured
// default when it names none.
func (s *Sender) SendSMS(ctx context.Context, msg domain.SMSMessage) (domain.SMSReceipt, error) {
	if msg.To.IsZero() {
		return domain.SMSReceipt{}, &domain.SendError{Provider: provider, Reason: "no recipient number"}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	body, err := json.Marshal(Payload{
		ID: msg.ID, To: msg.To.E164(), Text: s.text.Render(msg), Lang: string(msg.Lang),
		Code: string(msg.Code), ExpiresAt: msg.ExpiresAt.UTC(),
	})
	if err != nil {
		return domain.SMSReceipt{}, &domain.SendError{Provider: provider, Reason: "cannot encode the message", Err: err}
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return domain.SMSReceipt{}, &domain.SendError{Provider: provider, Reason: "cannot build request", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(TimestampHeader, ts)
	req.Header.Set(SignatureHeader, Sign(s.cfg.Secret, ts, body))

	res, err := s.client.Do(req)
	if err != nil {
		return domain.SMSReceipt{}, msg.TransportError(provider, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // lets the connection be reused
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return domain.SMSReceipt{Provider: provider, Reference: msg.ID}, nil
	}
	return domain.SMSReceipt{}, &domain.SendError{
		Provider:  provider,
		Code:      res.StatusCode,
		Retryable: res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500,
		Reason:    fmt.Sprintf("HTTP %d", res.StatusCode),
	}
}
