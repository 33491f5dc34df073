package config

import (
	"slices"
	"strings"
	"time"

	"github.com/lemonmall/verifyd/adapters/aliyunsms"
	"github.com/lemonmall/verifyd/adapters/smstext"
	"github.com/lemonmall/verifyd/adapters/tencentsms"
	"github.com/lemonmall/verifyd/adapters/twiliosms"
	"github.com/lemonmall/verifyd/adapters/webhooksms"
)

// SMS providers.
const (
	SMSLog     = "log"
	SMSTwilio  = "twilio"
	SMSAliyun  = "aliyun"
	SMSTencent = "tencent"
	SMSWebhook = "webhook"
)

// smsProviderNames lists the values VERIFY_SMS_PROVIDER accepts.
var smsProviderNames = []string{SMSLog, SMSTwilio, SMSAliyun, SMSTencent, SMSWebhook}

// providerTimeout bounds one call to a provider.
const providerTimeout = 10 * time.Second

// SMSConfig is who sends the messages and what they say.
type SMSConfig struct {
	// Provider is VERIFY_SMS_PROVIDER as given, normalized; Providers the
	// same as a list, in order of preference.
	Provider  string
	Providers []string
	Twilio    twiliosms.Config
	Aliyun    aliyunsms.Config
	Tencent   tencentsms.Config
	Webhook   webhooksms.Config
	// Templates are the message texts of the providers that send free text
	// (VERIFY_SMS_TEMPLATE_EN, VERIFY_SMS_TEMPLATE_ZH).
	Templates smstext.Templates
}

// SendingConfig is how one process (verifyd's in-process pool, or one
// smsworker) sends.
type SendingConfig struct {
	// Workers is how many sends are in flight at once (VERIFY_SMS_WORKERS).
	Workers int
	// QueueSize is how many messages the in-process pool holds
	// (VERIFY_SMS_QUEUE_SIZE).
	QueueSize int
	// Rate bounds the messages a second handed to the provider; 0 is no
	// limit (VERIFY_SMS_RATE).
	Rate float64
}

// required is one variable a provider cannot do without.
type required struct{ name, value string }

// smsProviders reads VERIFY_SMS_PROVIDER (one provider, or a comma list in
// order of failover) and the settings of each provider it names. Values are
// trimmed like every other: secrets mounted from files often end in a
// newline. Settings of providers not named are read but not checked.
func (p *parser) smsProviders(cfg *SMSConfig) {
	raw := strings.ToLower(p.str("VERIFY_SMS_PROVIDER", SMSLog))
	var names []string
	ok := true
	for _, n := range strings.Split(raw, ",") {
		n = strings.TrimSpace(n)
		switch {
		case !slices.Contains(smsProviderNames, n):
			p.fail("VERIFY_SMS_PROVIDER=%q: %q is not a provider; want log, twilio, aliyun, tencent or webhook, or a comma list such as aliyun,tencent", raw, n)
			ok = false
		case slices.Contains(names, n):
			p.fail("VERIFY_SMS_PROVIDER=%q: %s is listed twice", raw, n)
			ok = false
		}
		names = append(names, n)
	}
	if ok && len(names) > 1 && slices.Contains(names, SMSLog) {
		p.fail("VERIFY_SMS_PROVIDER=%q: log writes codes to the log and cannot be part of a failover list", raw)
		ok = false
	}
	if !ok {
		names = []string{SMSLog}
	}
	cfg.Providers = names
	cfg.Provider = strings.Join(names, ",")
	p.providers = cfg.Provider

	cfg.Twilio = twiliosms.Config{
		AccountSID:          p.str("TWILIO_ACCOUNT_SID", ""),
		AuthToken:           p.str("TWILIO_AUTH_TOKEN", ""),
		FromNumber:          p.str("TWILIO_FROM_NUMBER", ""),
		MessagingServiceSID: p.str("TWILIO_MESSAGING_SERVICE_SID", ""),
		APIBaseURL:          p.str("TWILIO_API_BASE_URL", ""),
		Timeout:             providerTimeout,
	}
	cfg.Aliyun = aliyunsms.Config{
		AccessKeyID:     p.str("ALIBABA_CLOUD_ACCESS_KEY_ID", ""),
		AccessKeySecret: p.str("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ""),
		SignName:        p.str("ALIYUN_SMS_SIGN_NAME", ""),
		TemplateCode:    p.str("ALIYUN_SMS_TEMPLATE_CODE", ""),
		Endpoint:        p.str("ALIYUN_SMS_ENDPOINT", aliyunsms.DefaultEndpoint),
		Timeout:         providerTimeout,
	}
	cfg.Tencent = tencentsms.Config{
		SecretID:   p.str("TENCENTCLOUD_SECRET_ID", ""),
		SecretKey:  p.str("TENCENTCLOUD_SECRET_KEY", ""),
		SDKAppID:   p.str("TENCENT_SMS_SDK_APP_ID", ""),
		SignName:   p.str("TENCENT_SMS_SIGN_NAME", ""),
		TemplateID: p.str("TENCENT_SMS_TEMPLATE_ID", ""),
		Region:     p.str("TENCENT_SMS_REGION", tencentsms.DefaultRegion),
		Endpoint:   p.str("TENCENT_SMS_ENDPOINT", tencentsms.DefaultEndpoint),
		Timeout:    providerTimeout,
	}
	cfg.Webhook = webhooksms.Config{
		URL:     p.str("VERIFY_SMS_WEBHOOK_URL", ""),
		Secret:  p.str("VERIFY_SMS_WEBHOOK_SECRET", ""),
		Timeout: providerTimeout,
	}

	for _, name := range names {
		switch name {
		case SMSTwilio:
			missing := p.require(name, required{"TWILIO_ACCOUNT_SID", cfg.Twilio.AccountSID}, required{"TWILIO_AUTH_TOKEN", cfg.Twilio.AuthToken})
			if cfg.Twilio.FromNumber == "" && cfg.Twilio.MessagingServiceSID == "" {
				p.fail("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID: one is required %s", p.forProvider(name))
				missing = true
			}
			if !missing {
				p.check("TWILIO_* settings", cfg.Twilio.Validate())
			}
		case SMSAliyun:
			if !p.require(name,
				required{"ALIBABA_CLOUD_ACCESS_KEY_ID", cfg.Aliyun.AccessKeyID},
				required{"ALIBABA_CLOUD_ACCESS_KEY_SECRET", cfg.Aliyun.AccessKeySecret},
				required{"ALIYUN_SMS_SIGN_NAME", cfg.Aliyun.SignName},
				required{"ALIYUN_SMS_TEMPLATE_CODE", cfg.Aliyun.TemplateCode}) {
				p.check("ALIYUN_SMS_ENDPOINT", cfg.Aliyun.Validate())
			}
		case SMSTencent:
			if !p.require(name,
				required{"TENCENTCLOUD_SECRET_ID", cfg.Tencent.SecretID},
				required{"TENCENTCLOUD_SECRET_KEY", cfg.Tencent.SecretKey},
				required{"TENCENT_SMS_SDK_APP_ID", cfg.Tencent.SDKAppID},
				required{"TENCENT_SMS_SIGN_NAME", cfg.Tencent.SignName},
				required{"TENCENT_SMS_TEMPLATE_ID", cfg.Tencent.TemplateID}) {
				p.check("TENCENT_SMS_ENDPOINT", cfg.Tencent.Validate())
			}
		case SMSWebhook:
			if !p.require(name, required{"VERIFY_SMS_WEBHOOK_URL", cfg.Webhook.URL}, required{"VERIFY_SMS_WEBHOOK_SECRET", cfg.Webhook.Secret}) {
				p.check("VERIFY_SMS_WEBHOOK_*", cfg.Webhook.Validate())
			}
		}
	}
}

// require reports each empty variable of provider on its own line and
// whether any was.
func (p *parser) require(provider string, vars ...required) (missing bool) {
	for _, v := range vars {
		if v.value == "" {
			p.fail("%s: required %s", v.name, p.forProvider(provider))
			missing = true
		}
	}
	return missing
}

// forProvider says which setting made a variable required:
// "when VERIFY_SMS_PROVIDER=twilio", or "for twilio in
// VERIFY_SMS_PROVIDER=aliyun,twilio".
func (p *parser) forProvider(provider string) string {
	if p.providers == provider {
		return "when VERIFY_SMS_PROVIDER=" + provider
	}
	return "for " + provider + " in VERIFY_SMS_PROVIDER=" + p.providers
}

// check reports a provider's own validation error, which never echoes a
// secret, under the variables it concerns.
func (p *parser) check(vars string, err error) {
	if err != nil {
		p.fail("%s: %v", vars, err)
	}
}
