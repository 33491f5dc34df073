// Package tencentsms sends SMS through Tencent Cloud SMS (action SendSms,
// API version 2021-01-11): a registered signature and template whose
// parameters are the code and its lifetime in minutes. It calls the API
// through the generic client of tencentcloud-sdk-go's common module, which
// signs requests with TC3-HMAC-SHA256 (the sms sub-module is not needed for
// one action).
package tencentsms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/lemonmall/verifyd/adapters/smstext"
	"github.com/lemonmall/verifyd/domain"
)

// provider is the name in receipts and errors.
const provider = "tencent"

// Defaults for the zero Config fields.
const (
	DefaultEndpoint = "https://sms.tencentcloudapi.com"
	DefaultRegion   = "ap-guangzhou"
	DefaultTimeout  = 10 * time.Second
)

// Config holds the credentials, the SMS application and its approved
// signature and template.
type Config struct {
	// SecretID and SecretKey authenticate requests (TENCENTCLOUD_SECRET_ID,
	// TENCENTCLOUD_SECRET_KEY).
	SecretID  string
	SecretKey string
	// SDKAppID is the SMS application (TENCENT_SMS_SDK_APP_ID), SignName its
	// approved signature (TENCENT_SMS_SIGN_NAME), TemplateID the approved
	// template (TENCENT_SMS_TEMPLATE_ID) whose {1} is the code and {2} the
	// lifetime in minutes.
	SDKAppID   string
	SignName   string
	TemplateID string
	// Region is the API region (TENCENT_SMS_REGION); empty means
	// DefaultRegion.
	Region string
	// Endpoint is the API's base URL (TENCENT_SMS_ENDPOINT); empty means
	// DefaultEndpoint. Plain http is allowed for a local test server.
	Endpoint string
	// Timeout bounds one SendSMS call; zero means DefaultTimeout.
	Timeout time.Duration
}

// Validate reports the first setting that cannot work, never echoing the
// secret key.
func (c Config) Validate() error {
	switch {
	case c.SecretID == "":
		return errors.New("tencent: secret id is required")
	case c.SecretKey == "":
		return errors.New("tencent: secret key is required")
	case c.SDKAppID == "":
		return errors.New("tencent: SMS SDK app id is required")
	case c.SignName == "":
		return errors.New("tencent: sign name is required")
	case c.TemplateID == "":
		return errors.New("tencent: template id is required")
	case c.Timeout < 0:
		return errors.New("tencent: timeout must not be negative")
	}
	if c.Endpoint != "" {
		if _, err := parseEndpoint(c.Endpoint); err != nil {
			return err
		}
	}
	return nil
}

// parseEndpoint accepts an absolute http(s) URL of scheme and host.
func parseEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("tencent: endpoint %q: want an http or https URL of scheme and host, such as %s", raw, DefaultEndpoint)
	}
	return u, nil
}

// Sender sends SMS with Tencent Cloud. It is safe for concurrent use: the
// SDK client is, and each call builds its own request.
type Sender struct {
	cfg    Config
	client *common.Client
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
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	u, _ := parseEndpoint(cfg.Endpoint) // checked by Validate
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = u.Host
	cpf.HttpProfile.Scheme = strings.ToUpper(u.Scheme)
	cpf.HttpProfile.ReqMethod = "POST"
	// The call's context carries the deadline; this is only a backstop in
	// whole seconds.
	cpf.HttpProfile.ReqTimeout = int((cfg.Timeout + time.Second - 1) / time.Second)
	cpf.DisableRegionBreaker = true // failover between providers is verifyd's
	cpf.Language = "en-US"
	client := common.NewCommonClient(common.NewCredential(cfg.SecretID, cfg.SecretKey), cfg.Region, cpf)
	return &Sender{cfg: cfg, client: client}, nil
}

// sendStatus is one entry of SendSms's SendStatusSet.
type sendStatus struct {
	SerialNo    string `json:"SerialNo"`
	PhoneNumber string `json:"PhoneNumber"`
	Code        string `json:"Code"`
	Message     string `json:"Message"`
}

// SendSMS sends msg's code and lifetime with the configured template. The
// number goes in E.164, as Tencent Cloud asks for.
func (s *Sender) SendSMS(ctx context.Context, msg domain.SMSMessage) (domain.SMSReceipt, error) {
	if msg.To.IsZero() {
		return domain.SMSReceipt{}, &domain.SendError{Provider: provider, Reason: "no recipient number"}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()

	req := tchttp.NewCommonRequest("sms", "2021-01-11", "SendSms")
	req.SetContext(ctx)
	err := req.SetActionParameters(map[string]any{
		"PhoneNumberSet":   []string{msg.To.E164()},
		"SmsSdkAppId":      s.cfg.SDKAppID,
		"SignName":         s.cfg.SignName,
		"TemplateId":       s.cfg.TemplateID,
		"TemplateParamSet": []string{string(msg.Code), strconv.Itoa(smstext.Minutes(msg))},
		"SessionContext":   msg.ID,
	})
	if err != nil {
		return domain.SMSReceipt{}, &domain.SendError{Provider: provider, Reason: "cannot build request", Err: err}
	}
	resp := tchttp.NewCommonResponse()
	if err := s.client.Send(req, resp); err != nil {
		return domain.SMSReceipt{}, mapError(err, msg)
	}

	var body struct {
		Response struct {
			SendStatusSet []sendStatus `json:"SendStatusSet"`
			RequestID     string       `json:"RequestId"`
		} `json:"Response"`
	}
	if err := json.Unmarshal(resp.GetBody(), &body); err != nil || len(body.Response.SendStatusSet) != 1 {
		// The request was accepted but the answer is not understood: the
		// message may be on its way, and a duplicate beats none.
		return domain.SMSReceipt{}, &domain.SendError{Provider: provider, Retryable: true, Reason: "answer without one send status"}
	}
	st := body.Response.SendStatusSet[0]
	if st.Code == "Ok" {
		return domain.SMSReceipt{Provider: provider, Reference: st.SerialNo}, nil
	}
	return domain.SMSReceipt{}, &domain.SendError{
		Provider:  provider,
		Retryable: retryable(st.Code),
		Reason:    msg.Redact(fmt.Sprintf("%s: %s (request %s)", st.Code, st.Message, body.Response.RequestID)),
	}
}

// Refusals about the number itself, per number in SendStatusSet or for the
// whole call: no other try, here or with another provider, can deliver to it.
var numberRefusals = map[string]bool{
	"InvalidParameterValue.IncorrectPhoneNumber":                true,
	"FailedOperation.PhoneNumberInBlacklist":                    true,
	"FailedOperation.PhoneNumberOnBlacklist":                    true,
	"FailedOperation.PhoneNumberParseFail":                      true,
	"UnsupportedOperation.UnsupportedRegion":                    true,
	"FailedOperation.ContainSensitiveWord":                      true,
	"InvalidParameterValue.ContentLengthLimit":                  true,
	"UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone": true,
	"UnsupportedOperation.GlobalTemplateToChineseMainlandPhone": true,
}

// retryable classifies an error code. Only a refusal of the number is
// permanent: frequency limits (LimitExceeded.*), RequestLimitExceeded,
// InternalError.*, and trouble with the account (AuthFailure.*, balance,
// signature or template) may pass later or with the next provider of a
// failover list, and their retries are bounded by the outbox.
func retryable(code string) bool {
	return !numberRefusals[code]
}

// mapError turns an SDK error into a *domain.SendError without the number
// or the code in its text.
func mapError(err error, msg domain.SMSMessage) error {
	var sdkErr *tcerr.TencentCloudSDKError
	if !errors.As(err, &sdkErr) {
		return &domain.SendError{Provider: provider, Retryable: true, Reason: msg.Redact(err.Error())}
	}
	switch sdkErr.Code {
	case "ClientError.NetworkError":
		cause := errors.Unwrap(sdkErr)
		if cause == nil {
			cause = sdkErr
		}
		return msg.TransportError(provider, cause)
	case "ClientError.HttpStatusCodeError":
		// A non-200 status comes from a proxy or gateway, never from the
		// API itself, which answers errors with 200; its body may be
		// anything, so only the status line is kept.
		status, _, _ := strings.Cut(strings.TrimPrefix(sdkErr.Message, "Request fail with http status code: "), ", with body")
		return &domain.SendError{Provider: provider, Retryable: true, Reason: "HTTP " + msg.Redact(status)}
	}
	return &domain.SendError{
		Provider:  provider,
		Retryable: retryable(sdkErr.Code),
		Reason:    msg.Redact(fmt.Sprintf("%s: %s (request %s)", sdkErr.Code, sdkErr.Message, sdkErr.RequestId)),
	}
}
