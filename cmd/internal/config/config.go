// Package config reads verifyd's configuration from the environment once, at
// start, and reports every bad value on its own line.
package config

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/adapters/phonenumber"
	"github.com/lemonmall/verifyd/adapters/smstext"
	"github.com/lemonmall/verifyd/domain"
)

// Store backends.
const (
	StoreMemory = "memory"
	StoreRedis  = "redis"
)

// Config is everything verifyd's binaries read from the environment, in
// parts: each Wire provider in cmd/internal/wiring takes the parts it needs
// (wire.FieldsOf), never the whole.
type Config struct {
	HTTP   HTTPConfig
	Locale LocaleConfig
	Store  StoreConfig
	Redis  RedisConfig
	// CodeSecret keys SMS code digests and seals queued message texts
	// (VERIFY_CODE_SECRET).
	CodeSecret Secret
	SMS        SMSConfig
	Sending    SendingConfig
	Queue      QueueConfig
	// Limits are the abuse controls (VERIFY_LIMIT_*, VERIFY_SMS_ALLOWED_REGIONS,
	// VERIFY_SMS_MOBILE_ONLY).
	Limits  domain.Limits
	Process ProcessConfig
}

// HTTPConfig is verifyd's listener and who may call it.
type HTTPConfig struct {
	// Addr is where verifyd listens (VERIFY_ADDR).
	Addr string
	// TrustedProxies are the networks whose X-Forwarded-For names the
	// client (VERIFY_TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix
	// CORSOrigins are the web origins allowed to use /api/v1/ cross-site
	// (VERIFY_CORS_ORIGINS).
	CORSOrigins []string
}

// LocaleConfig is what verifyd assumes of a user who does not say.
type LocaleConfig struct {
	// DefaultRegion reads national phone numbers (VERIFY_DEFAULT_REGION).
	DefaultRegion string
	// Language answers requests that state no language verifyd speaks
	// (VERIFY_LANGUAGE).
	Language domain.Language
}

// StoreConfig chooses where captcha answers, codes and rate limits live.
type StoreConfig struct {
	// Kind is StoreMemory or StoreRedis (VERIFY_STORE).
	Kind string
}

// RedisConfig is the one Redis a process connects to, when the store or the
// queue lives there.
type RedisConfig struct {
	// URL is VERIFY_REDIS_URL.
	URL string
}

// Secret is VERIFY_CODE_SECRET: given, or generated per process when nothing
// outlives the process.
type Secret []byte

// ProcessConfig is how a process logs and stops.
type ProcessConfig struct {
	// LogLevel is VERIFY_LOG_LEVEL.
	LogLevel slog.Level
	// ShutdownTimeout bounds draining on SIGTERM (VERIFY_SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
}

// UsesRedis reports whether the store lives on Redis.
func (s StoreConfig) UsesRedis() bool { return s.Kind == StoreRedis }

// UsesRedis reports whether anything in this configuration lives on Redis.
func (c Config) UsesRedis() bool {
	return c.Store.UsesRedis() || c.Queue.UsesRedis()
}

// Getenv is os.Getenv's signature, so tests can pass a map lookup.
type Getenv func(string) string

// Load parses and validates the environment. The error, if any, has one line
// per bad or missing value, each naming its variable.
func Load(getenv Getenv) (Config, error) {
	p := parser{getenv: getenv}
	// Read in the order of the variables' errors, which tests and users see.
	cfg := Config{
		HTTP:  HTTPConfig{Addr: p.str("VERIFY_ADDR", ":8000")},
		Store: StoreConfig{Kind: p.oneOf("VERIFY_STORE", StoreMemory, StoreMemory, StoreRedis)},
		Redis: RedisConfig{URL: p.str("VERIFY_REDIS_URL", "redis://127.0.0.1:6379/2")},
		Locale: LocaleConfig{
			DefaultRegion: strings.ToUpper(p.str("VERIFY_DEFAULT_REGION", "CN")),
			Language:      p.language("VERIFY_LANGUAGE"),
		},
	}
	cfg.Process.LogLevel = p.level("VERIFY_LOG_LEVEL")
	cfg.Sending = SendingConfig{
		Workers:   p.positiveInt("VERIFY_SMS_WORKERS", DefaultSMSConcurrency),
		Rate:      p.smsRate(),
		QueueSize: p.positiveInt("VERIFY_SMS_QUEUE_SIZE", 1024),
	}
	cfg.Process.ShutdownTimeout = p.duration("VERIFY_SHUTDOWN_TIMEOUT", 10*time.Second)
	if _, _, err := net.SplitHostPort(cfg.HTTP.Addr); err != nil {
		p.fail("VERIFY_ADDR=%q: want host:port such as :8000 or 127.0.0.1:8000", cfg.HTTP.Addr)
	}
	if !phonenumber.IsKnownRegion(cfg.Locale.DefaultRegion) {
		p.fail("VERIFY_DEFAULT_REGION=%q: want an ISO 3166-1 alpha-2 region such as CN or US", cfg.Locale.DefaultRegion)
	}
	cfg.SMS.Templates = p.smsTemplates()
	cfg.Queue = p.queue()
	cfg.Limits = p.limits(cfg.Locale.DefaultRegion)
	cfg.HTTP.TrustedProxies = p.prefixes("VERIFY_TRUSTED_PROXIES")
	cfg.HTTP.CORSOrigins = p.corsOrigins()
	if cfg.UsesRedis() {
		if _, err := rueidis.ParseURL(cfg.Redis.URL); err != nil {
			// url.Parse errors quote the whole URL, password included.
			msg := strings.ReplaceAll(err.Error(), cfg.Redis.URL, redactURL(cfg.Redis.URL))
			p.fail("VERIFY_REDIS_URL=%q: %s", redactURL(cfg.Redis.URL), msg)
		}
	}

	secret := getenv("VERIFY_CODE_SECRET")
	switch {
	case secret != "" && len(secret) < domain.MinCodeSecretLength:
		p.fail("VERIFY_CODE_SECRET: must be at least %d bytes, got %d", domain.MinCodeSecretLength, len(secret))
	case secret != "":
		cfg.CodeSecret = Secret(secret)
	case cfg.Store.Kind == StoreRedis:
		// Codes outlive a process in Redis, and several instances must agree.
		p.fail("VERIFY_CODE_SECRET: required (at least %d bytes) when VERIFY_STORE=redis", domain.MinCodeSecretLength)
	case cfg.Queue.UsesRedis():
		// Queued texts are sealed with it, and smsworker must open them.
		p.fail("VERIFY_CODE_SECRET: required (at least %d bytes) when VERIFY_SMS_QUEUE=redis", domain.MinCodeSecretLength)
	default:
		// Memory codes die with the process, so a per-process key is enough.
		cfg.CodeSecret = make(Secret, 32)
		if _, err := rand.Read(cfg.CodeSecret); err != nil {
			p.fail("VERIFY_CODE_SECRET: cannot generate one: %v", err)
		}
	}

	p.smsProviders(&cfg.SMS)
	if len(p.errs) > 0 {
		return Config{}, errors.Join(p.errs...)
	}
	return cfg, nil
}

type parser struct {
	getenv Getenv
	errs   []error
	// providers is the normalized VERIFY_SMS_PROVIDER, for error texts.
	providers string
}

func (p *parser) fail(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(p.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail("%s=%q: want %s", name, v, strings.Join(allowed, " or "))
	return def
}

func (p *parser) positiveInt(name string, def int) int {
	raw := p.str(name, "")
	if raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		p.fail("%s=%q: want a positive integer", name, raw)
		return def
	}
	return n
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	raw := p.str(name, "")
	if raw == "" {
		return def
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		p.fail("%s=%q: want a positive duration such as 10s", name, raw)
		return def
	}
	return d
}

func (p *parser) level(name string) slog.Level {
	raw := p.str(name, "info")
	var l slog.Level
	if err := l.UnmarshalText([]byte(raw)); err != nil {
		p.fail("%s=%q: want debug, info, warn or error", name, raw)
		return slog.LevelInfo
	}
	return l
}

// redactURL hides a password in a Redis URL before it is shown in an error.
func redactURL(raw string) string {
	at := strings.LastIndex(raw, "@")
	scheme := strings.Index(raw, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return raw
	}
	return raw[:scheme+3] + "***" + raw[at:]
}

// smsTemplates reads the per-language message texts; each must hold the code
// and the lifetime.
func (p *parser) smsTemplates() smstext.Templates {
	t := smstext.Templates{
		English: p.str("VERIFY_SMS_TEMPLATE_EN", smstext.DefaultEnglish),
		Chinese: p.str("VERIFY_SMS_TEMPLATE_ZH", smstext.DefaultChinese),
	}
	for _, v := range []struct{ name, value string }{
		{"VERIFY_SMS_TEMPLATE_EN", t.English},
		{"VERIFY_SMS_TEMPLATE_ZH", t.Chinese},
	} {
		if err := smstext.Check(v.value); err != nil {
			p.fail("%s=%q: %v", v.name, v.value, err)
		}
	}
	return t
}
