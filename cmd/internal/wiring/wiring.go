// Package wiring holds the Wire providers that turn a config.Config into
// adapters. It is the only place where configuration picks an adapter; the
// binaries in cmd/ assemble their graphs from ProviderSet.
package wiring

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/google/wire"
	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/adapters/aliyunsms"
	"github.com/lemonmall/verifyd/adapters/captcha"
	"github.com/lemonmall/verifyd/adapters/failoversms"
	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/adapters/logsms"
	"github.com/lemonmall/verifyd/adapters/memory"
	"github.com/lemonmall/verifyd/adapters/metrics"
	"github.com/lemonmall/verifyd/adapters/phonenumber"
	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/smstext"
	"github.com/lemonmall/verifyd/adapters/system"
	"github.com/lemonmall/verifyd/adapters/tencentsms"
	"github.com/lemonmall/verifyd/adapters/twiliosms"
	"github.com/lemonmall/verifyd/adapters/webhooksms"
	"github.com/lemonmall/verifyd/application"
	"github.com/lemonmall/verifyd/cmd/internal/config"
	"github.com/lemonmall/verifyd/domain"
)

// ProviderSet builds everything a verifyd process needs from a Config and a
// logger.
var ProviderSet = wire.NewSet(
	coreSet,
	queueSet,
	limitSet,
)

var coreSet = wire.NewSet(
	ProvideRedis,
	ProvideStore,
	ProvideChallengeStore,
	ProvideCodeStore,
	ProvideReadiness,
	ProvideSender,
	ProvideSMSText,
	ProvideDigester,
	ProvidePolicy,
	ProvidePhoneParser,
	ProvideHTTPConfig,
	captcha.ProviderSet,
	system.ProviderSet,
	application.NewIssueImageChallenge,
	application.NewRequestSMSCode,
	application.NewVerifySMSCode,
	apiV1Set,
	ProvideMetrics,
	ProvideMetricsHandler,
	wire.Bind(new(httpapi.Recorder), new(*metrics.Metrics)),
	wire.Bind(new(domain.Events), new(*metrics.Metrics)),
	wire.Struct(new(httpapi.Deps), "*"),
	httpapi.NewServer,
)

// Store is what verifyd needs from a store backend.
type Store interface {
	domain.ChallengeStore
	domain.CodeStore
	Ping(ctx context.Context) error
}

// Redis is the one Redis connection of a process, shared by every adapter
// that the configuration puts on Redis. Client is nil when none does.
type Redis struct {
	Client rueidis.Client
}

// ProvideRedis dials VERIFY_REDIS_URL only when the configuration uses Redis
// for something, so the embedded default starts without one.
func ProvideRedis(ctx context.Context, cfg config.Config) (*Redis, func(), error) {
	if !cfg.UsesRedis() {
		return &Redis{}, func() {}, nil
	}
	client, err := redis.Dial(ctx, cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("VERIFY_REDIS_URL: %w", err)
	}
	return &Redis{Client: client}, client.Close, nil
}

// ProvideStore opens the configured store.
func ProvideStore(cfg config.Config, r *Redis, clock domain.Clock) (Store, error) {
	switch cfg.Store {
	case config.StoreMemory:
		return memory.NewStore(clock), nil
	case config.StoreRedis:
		return redis.NewStore(r.Client), nil
	}
	return nil, fmt.Errorf("VERIFY_STORE=%q: want memory or redis", cfg.Store)
}

// ProvideChallengeStore narrows the store to the captcha port.
func ProvideChallengeStore(s Store) domain.ChallengeStore { return s }

// ProvideCodeStore narrows the store to the SMS code port.
func ProvideCodeStore(s Store) domain.CodeStore { return s }

// ProvideReadiness reports the service ready when its store answers and,
// when the SMS queue is on Redis but the store is not, when Redis does too:
// otherwise every SMS request would fail while /readyz said 200.
func ProvideReadiness(cfg config.Config, s Store, r *Redis) httpapi.ReadinessCheck {
	if cfg.Store == config.StoreRedis || r.Client == nil {
		return s.Ping
	}
	queue := redis.NewStore(r.Client)
	return func(ctx context.Context) error {
		if err := s.Ping(ctx); err != nil {
			return err
		}
		return queue.Ping(ctx)
	}
}

// ProvideSMSText renders message texts from the configured templates, in
// the configured language when a request names none.
func ProvideSMSText(cfg config.Config) (*smstext.Renderer, error) {
	r, err := smstext.NewRenderer(cfg.SMSTemplates, cfg.Language)
	if err != nil {
		return nil, fmt.Errorf("VERIFY_SMS_TEMPLATE_*: %w", err)
	}
	return r, nil
}

// ProvideSender builds the configured SMS provider or, for a list, a
// failover sender over them in order; m counts each hop to the next.
func ProvideSender(cfg config.Config, logger *slog.Logger, text *smstext.Renderer, m *metrics.Metrics) (domain.SMSSender, error) {
	providers := make([]failoversms.Provider, 0, len(cfg.SMSProviders))
	for _, name := range cfg.SMSProviders {
		s, err := providerSender(cfg, name, logger, text)
		if err != nil {
			return nil, err
		}
		providers = append(providers, failoversms.Provider{Name: name, Sender: s})
	}
	switch len(providers) {
	case 0:
		return nil, fmt.Errorf("VERIFY_SMS_PROVIDER=%q: no provider", cfg.SMSProvider)
	case 1:
		return providers[0].Sender, nil
	}
	s, err := failoversms.New(providers, m, logger)
	if err != nil {
		return nil, fmt.Errorf("VERIFY_SMS_PROVIDER=%q: %w", cfg.SMSProvider, err)
	}
	return s, nil
}

// providerSender builds one provider's sender.
func providerSender(cfg config.Config, name string, logger *slog.Logger, text *smstext.Renderer) (domain.SMSSender, error) {
	var (
		s   domain.SMSSender
		err error
	)
	switch name {
	case config.SMSLog:
		return logsms.NewSender(logger, text), nil
	case config.SMSTwilio:
		s, err = twiliosms.NewSender(cfg.Twilio, text)
	case config.SMSAliyun:
		s, err = aliyunsms.NewSender(cfg.Aliyun)
	case config.SMSTencent:
		s, err = tencentsms.NewSender(cfg.Tencent)
	case config.SMSWebhook:
		s, err = webhooksms.NewSender(cfg.Webhook, text)
	default:
		return nil, fmt.Errorf("VERIFY_SMS_PROVIDER=%q: want log, twilio, aliyun, tencent or webhook, or a comma list of them", name)
	}
	if err != nil {
		return nil, fmt.Errorf("VERIFY_SMS_PROVIDER=%s: %w", name, err)
	}
	return s, nil
}

// ProvideDigester keys SMS code digests with the configured secret.
func ProvideDigester(cfg config.Config) (*domain.CodeDigester, error) {
	return domain.NewCodeDigester(cfg.CodeSecret)
}

// ProvidePolicy returns the seed's expiries and the configured abuse limits.
func ProvidePolicy(cfg config.Config) domain.Policy {
	p := domain.DefaultPolicy()
	p.Limits = cfg.Limits
	return p
}

// ProvidePhoneParser reads national numbers in the configured region.
func ProvidePhoneParser(cfg config.Config) (domain.PhoneParser, error) {
	p, err := phonenumber.NewParser(cfg.DefaultRegion)
	if err != nil {
		return nil, fmt.Errorf("VERIFY_DEFAULT_REGION: %w", err)
	}
	return p, nil
}

// ProvideMetrics makes the process's Prometheus registry.
func ProvideMetrics() *metrics.Metrics { return metrics.New() }

// ProvideMetricsHandler serves the registry at GET /metrics.
func ProvideMetricsHandler(m *metrics.Metrics) http.Handler { return m.Handler() }

// ProvideHTTPConfig applies the configured shutdown timeout to the server.
func ProvideHTTPConfig(cfg config.Config) httpapi.Config {
	c := httpapi.DefaultConfig()
	c.ShutdownTimeout = cfg.ShutdownTimeout
	c.DevelopmentSMS = cfg.SMSProvider == config.SMSLog
	c.DefaultRegion = cfg.DefaultRegion
	c.Language = cfg.Language
	c.TrustedProxies = cfg.TrustedProxies
	c.CORSOrigins = cfg.CORSOrigins
	return c
}
