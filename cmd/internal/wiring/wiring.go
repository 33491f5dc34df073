// Package wiring holds the Wire providers that turn a config.Config into
// adapters. It is the only place where configuration picks an adapter; the
// binaries in cmd/ assemble their graphs from ServerSet and WorkerSet.
//
// Each provider takes only its part of the configuration (configSet hands
// the parts out) and names the variable in its errors; where configuration
// chooses between adapters, one provider switches once. Adapters that are
// always built bring their own package's ProviderSet.
package wiring

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/wire"
	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/adapters/captcha"
	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/adapters/metrics"
	"github.com/lemonmall/verifyd/adapters/phonenumber"
	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/system"
	"github.com/lemonmall/verifyd/application"
	"github.com/lemonmall/verifyd/cmd/internal/config"
	"github.com/lemonmall/verifyd/domain"
)

// ServerSet builds everything a verifyd process needs from a Config and a
// logger.
var ServerSet = wire.NewSet(
	configSet,
	system.ProviderSet,
	metrics.ProviderSet,
	// The HTTP adapter reports its requests to the same registry.
	wire.Bind(new(httpapi.Recorder), new(*metrics.Metrics)),
	captcha.ProviderSet,
	ProvideRedis,
	backendSet,
	smsSet,
	ProvideSealer,
	ProvideOutbox,
	ProvideDigester,
	ProvidePolicy,
	useCaseSet,
	httpSet,
)

// WorkerSet builds what an smsworker process needs from a Config and a
// logger: the shared Redis connection, the SMS provider and the worker.
var WorkerSet = wire.NewSet(
	configSet,
	system.ProviderSet,
	metrics.ProviderSet,
	ProvideRedis,
	smsSet,
	ProvideSealer,
	ProvideWorker,
)

// configSet hands each provider its part of the configuration.
var configSet = wire.NewSet(
	wire.FieldsOf(new(config.Config),
		"HTTP", "Locale", "Store", "Redis", "CodeSecret", "SMS", "Sending", "Queue", "Limits", "Process"),
	wire.FieldsOf(new(config.LocaleConfig), "Language"),
	wire.FieldsOf(new(config.SMSConfig), "Templates"),
)

// useCaseSet provides the use cases behind the HTTP routes.
var useCaseSet = wire.NewSet(
	application.NewIssueImageChallenge,
	application.NewRequestSMSCode,
	application.NewVerifySMSCode,
	apiV1Set,
)

// httpSet provides the HTTP adapter, its probes and its metrics page.
var httpSet = wire.NewSet(
	httpapi.ProviderSet,
	ProvideHTTPConfig,
	ProvidePhoneParser,
	ProvideReadiness,
	ProvideMetricsHandler,
)

// Redis is the one Redis connection of a process, shared by every adapter
// that the configuration puts on Redis. Client is nil when none does.
type Redis struct {
	Client rueidis.Client
}

// ProvideRedis dials VERIFY_REDIS_URL only when the store or the queue is on
// Redis, so the embedded default starts without one.
func ProvideRedis(ctx context.Context, rc config.RedisConfig, store config.StoreConfig, queue config.QueueConfig) (*Redis, func(), error) {
	if !store.UsesRedis() && !queue.UsesRedis() {
		return &Redis{}, func() {}, nil
	}
	client, err := redis.Dial(ctx, rc.URL)
	if err != nil {
		return nil, nil, fmt.Errorf("VERIFY_REDIS_URL: %w", err)
	}
	return &Redis{Client: client}, client.Close, nil
}

// ProvideDigester keys SMS code digests with the configured secret.
func ProvideDigester(secret config.Secret) (*domain.CodeDigester, error) {
	return domain.NewCodeDigester(secret)
}

// ProvidePolicy returns the seed's expiries and the configured abuse limits.
func ProvidePolicy(limits domain.Limits) domain.Policy {
	p := domain.DefaultPolicy()
	p.Limits = limits
	return p
}

// ProvidePhoneParser reads national numbers in the configured region.
func ProvidePhoneParser(locale config.LocaleConfig) (domain.PhoneParser, error) {
	p, err := phonenumber.NewParser(locale.DefaultRegion)
	if err != nil {
		return nil, fmt.Errorf("VERIFY_DEFAULT_REGION: %w", err)
	}
	return p, nil
}

// ProvideMetricsHandler serves the registry at GET /metrics.
func ProvideMetricsHandler(m *metrics.Metrics) http.Handler { return m.Handler() }

// ProvideHTTPConfig applies the configured shutdown timeout, locale and
// callers to the server, and tells its page when codes go to the log.
func ProvideHTTPConfig(h config.HTTPConfig, locale config.LocaleConfig, sms config.SMSConfig, proc config.ProcessConfig) httpapi.Config {
	c := httpapi.DefaultConfig()
	c.ShutdownTimeout = proc.ShutdownTimeout
	c.DevelopmentSMS = sms.Provider == config.SMSLog
	c.DefaultRegion = locale.DefaultRegion
	c.Language = locale.Language
	c.TrustedProxies = h.TrustedProxies
	c.CORSOrigins = h.CORSOrigins
	return c
}
