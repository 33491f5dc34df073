// Package aliyunsms sends SMS through Alibaba Cloud SMS (Dysms API version
// 2017-05-25, action SendSms): a registered signature and template, the code
// as the template parameter "code". Mainland China requires both, so it is
// how shops there send codes.
//
// It signs the RPC request itself (HMAC-SHA1, signature version 1.0; see
// Sign) rather than using the official SDK, whose module is a 43 MB download
// of every Alibaba Cloud service for this one call, and whose calls take no
// context.
package aliyunsms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// provider is the name in receipts and errors.
const provider = "aliyun"

// Defaults for the zero Config fields.
const (
	DefaultEndpoint = "https://dysmsapi.aliyuncs.com"
	DefaultTimeout  = 10 * time.Second
)

// Config holds the credentials and the registered signature and template.
type Config struct {
	// AccessKeyID and AccessKeySecret authenticate requests
	// (ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET).
	AccessKeyID     string
	AccessKeySecret string
	// SignName is the approved signature (ALIYUN_SMS_SIGN_NAME) and
	// TemplateCode the approved template ("SMS_123456789",
	// ALIYUN_SMS_TEMPLATE_CODE), whose text holds ${code}.
	SignName     string
	TemplateCode string
	// Endpoint is the API's base URL (ALIYUN_SMS_ENDPOINT); empty means
	// DefaultEndpoint. Plain http is allowed for a local test server.
	Endpoint string
	// Timeout bounds one SendSMS call; zero means DefaultTimeout.
	Timeout time.Duration
}

// Validate reports the first setting that cannot work, never echoing the
// secret.
func (c Config) Validate() error {
	switch {
	case c.AccessKeyID == "":
		return errors.New("aliyun: access key id is required")
	case c.AccessKeySecret == "":
		return errors.New("aliyun: access key secret is required")
	case c.SignName == "":
		return errors.New("aliyun: sign name is required")
	case c.TemplateCode == "":
		return errors.New("aliyun: template code is required")
	case c.Timeout < 0:
		return errors.New("aliyun: timeout must not be negative")
	}
	if c.Endpoint != "" {
		if _, err := ParseEndpoint(c.Endpoint); err != nil {
			return fmt.Errorf("aliyun: %w", err)
		}
	}
	return nil
}

// ParseEndpoint accepts an absolute http(s) URL of scheme, host and an
// optional path, without credentials, query or fragment.
func ParseEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("endpoint %q: want an http or https URL such as %s", raw, DefaultEndpoint)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

// Sender sends SMS with Alibaba Cloud. It is safe for concurrent use.
type Sender struct {
	cfg      Config
	endpoint string
	client   *http.Client
}

var _ domain.SMSSender = (*Sender)(nil)

// NewSender validates cfg and returns a Sender.
func NewSender(cfg Config) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	u, _ := ParseEndpoint(cfg.Endpoint) // checked by Validate
	return &Sender{
		cfg:      cfg,
		endpoint: u.String(),
		client: &http.Client{
			Transport:     http.DefaultTransport.(*http.Transport).Clone(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// response is the JSON answer of SendSms, and of any refused RPC call.
type response struct {
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	BizID     string `json:"BizId"`
	RequestID string `json:"RequestId"`
}

// SendSMS sends msg's code with the configured template. The number goes as
// country code and digits without "+", the form Alibaba Cloud documents for
// mainland and international numbers alike.
func (s *Sender) SendSMS(ctx context.Context, msg domain.SMSMessage) (domain.SMSReceipt, error) {
	if msg.To.IsZero() {
		return domain.SMSReceipt{}, &domain.SendError{Provider: provider, Reason: "no recipient number"}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()

	param, _ := json.Marshal(map[string]string{"code": string(msg.Code)})
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	form := url.Values{
		"AccessKeyId":      {s.cfg.AccessKeyID},
		"Action":           {"SendSms"},
		"Format":           {"JSON"},
		"OutId":            {msg.ID},
		"PhoneNumbers":     {strings.TrimPrefix(msg.To.E164(), "+")},
		"RegionId":         {"cn-hangzhou"},
		"SignName":         {s.cfg.SignName},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {hex.EncodeToString(nonce)},
		"SignatureVersion": {"1.0"},
		"TemplateCode":     {s.cfg.TemplateCode},
		"TemplateParam":    {string(param)},
		"Timestamp":        {time.Now().UTC().Format("2006-01-02T15:04:05Z")},
		"Version":          {"2017-05-25"},
	}
	form.Set("Signature", Sign(http.MethodPost, form, s.cfg.AccessKeySecret))

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return domain.SMSReceipt{}, &domain.SendError{Provider: provider, Reason: "cannot build request", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		return domain.SMSReceipt{}, msg.TransportError(provider, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	var r response
	if err == nil {
		err = json.Unmarshal(body, &r)
	}
	switch {
	case res.StatusCode == http.StatusOK && err == nil && r.Code == "OK":
		return domain.SMSReceipt{Provider: provider, Reference: r.BizID}, nil
	case err != nil || r.Code == "":
		// Not Alibaba Cloud's JSON: a proxy or a load balancer answered.
		return domain.SMSReceipt{}, &domain.SendError{
			Provider: provider, Code: res.StatusCode, Retryable: res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests,
			Reason: fmt.Sprintf("HTTP %d: response is not an Alibaba Cloud answer", res.StatusCode),
		}
	}
	return domain.SMSReceipt{}, &domain.SendError{
		Provider:  provider,
		Code:      res.StatusCode,
		Retryable: retryable(r.Code),
		Reason:    msg.Redact(fmt.Sprintf("HTTP %d: %s: %s (request %s)", res.StatusCode, r.Code, r.Message, r.RequestID)),
	}
}

// Refusals about the number itself: no other try, here or with another
// provider, can deliver to it.
var numberRefusals = map[string]bool{
	"isv.MOBILE_NUMBER_ILLEGAL":         true,
	"isv.MOBILE_COUNT_OVER_LIMIT":       true,
	"isv.DOMESTIC_NUMBER_NOT_SUPPORTED": true,
	"isv.BLACK_KEY_CONTROL_LIMIT":       true,
}

// retryable classifies an error code. Only a refusal of the number is
// permanent: throttling (isv.BUSINESS_LIMIT_CONTROL, Throttling.*), server
// errors, and trouble with the account (balance, credentials, signature or
// template not approved) may pass later or with the next provider of a
// failover list, and their retries are bounded by the outbox.
func retryable(code string) bool {
	return !numberRefusals[code]
}
