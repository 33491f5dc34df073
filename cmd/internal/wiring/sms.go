package wiring

import (
	"fmt"
	"log/slog"

	"github.com/google/wire"

	"github.com/lemonmall/verifyd/adapters/aliyunsms"
	"github.com/lemonmall/verifyd/adapters/failoversms"
	"github.com/lemonmall/verifyd/adapters/logsms"
	"github.com/lemonmall/verifyd/adapters/metrics"
	"github.com/lemonmall/verifyd/adapters/smstext"
	"github.com/lemonmall/verifyd/adapters/tencentsms"
	"github.com/lemonmall/verifyd/adapters/twiliosms"
	"github.com/lemonmall/verifyd/adapters/webhooksms"
	"github.com/lemonmall/verifyd/cmd/internal/config"
	"github.com/lemonmall/verifyd/domain"
)

var smsSet = wire.NewSet(ProvideSMSText, ProvideSender)

// ProvideSMSText renders message texts from the configured templates, in
// the configured language when a request names none.
func ProvideSMSText(t smstext.Templates, lang domain.Language) (*smstext.Renderer, error) {
	r, err := smstext.NewRenderer(t, lang)
	if err != nil {
		return nil, fmt.Errorf("VERIFY_SMS_TEMPLATE_*: %w", err)
	}
	return r, nil
}

// ProvideSender builds the configured SMS provider or, for a list, a
// failover sender over them in order; m counts each hop to the next.
func ProvideSender(sms config.SMSConfig, logger *slog.Logger, text *smstext.Renderer, m *metrics.Metrics) (domain.SMSSender, error) {
	providers := make([]failoversms.Provider, 0, len(sms.Providers))
	for _, name := range sms.Providers {
		s, err := providerSender(sms, name, logger, text)
		if err != nil {
			return nil, err
		}
		providers = append(providers, failoversms.Provider{Name: name, Sender: s})
	}
	switch len(providers) {
	case 0:
		return nil, fmt.Errorf("VERIFY_SMS_PROVIDER=%q: no provider", sms.Provider)
	case 1:
		return providers[0].Sender, nil
	}
	s, err := failoversms.New(providers, m, logger)
	if err != nil {
		return nil, fmt.Errorf("VERIFY_SMS_PROVIDER=%q: %w", sms.Provider, err)
	}
	return s, nil
}

// providerSender builds one provider's sender.
func providerSender(sms config.SMSConfig, name string, logger *slog.Logger, text *smstext.Renderer) (domain.SMSSender, error) {
	var (
		s   domain.SMSSender
		err error
	)
	switch name {
	case config.SMSLog:
		return logsms.NewSender(logger, text), nil
	case config.SMSTwilio:
		s, err = twiliosms.NewSender(sms.Twilio, text)
	case config.SMSAliyun:
		s, err = aliyunsms.NewSender(sms.Aliyun)
	case config.SMSTencent:
		s, err = tencentsms.NewSender(sms.Tencent)
	case config.SMSWebhook:
		s, err = webhooksms.NewSender(sms.Webhook, text)
	default:
		return nil, fmt.Errorf("VERIFY_SMS_PROVIDER=%q: want log, twilio, aliyun, tencent or webhook, or a comma list of them", name)
	}
	if err != nil {
		return nil, fmt.Errorf("VERIFY_SMS_PROVIDER=%s: %w", name, err)
	}
	return s, nil
}
