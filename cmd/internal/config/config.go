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

	"github.com/lemonmall/verifyd/adapters/aliyunsms"
	"github.com/lemonmall/verifyd/adapters/phonenumber"
	"github.com/lemonmall/verifyd/adapters/smstext"
	"github.com/lemonmall/verifyd/adapters/tencentsms"
	"github.com/lemonmall/verifyd/adapters/twiliosms"
	"github.com/lemonmall/verifyd/adapters/webhooksms"
	"github.com/lemonmall/verifyd/domain"
)

// Store backends.
const (
	StoreMemory = "memory"
	StoreRedis  = "redis"
)

// Config is everything verifyd's binaries read from the environment.
type Config struct {
	Addr     string
	Store    string
	RedisURL string
	// SMSProvider is VERIFY_SMS_PROVIDER as given, normalized; SMSProviders
	// the same as a list, in order of preference.
	SMSProvider   string
	SMSProviders  []string
	CodeSecret    []byte
	DefaultRegion string
	// Language answers requests that state no language verifyd speaks.
	Language domain.Language
	LogLevel slog.Level
	// SMSWorkers and SMSQueueSize size the in-process outbox.
	SMSWorkers   int
	SMSQueueSize int
	// SMSRate bounds the messages a second one process sends; 0 is no limit.
	SMSRate         float64
	ShutdownTimeout time.Duration
	Twilio          twiliosms.Config
	Aliyun          aliyunsms.Config
	Tencent         tencentsms.Config
	Webhook         webhooksms.Config
	// SMSTemplates are the message texts of the providers that send free
	// text (VERIFY_SMS_TEMPLATE_EN, VERIFY_SMS_TEMPLATE_ZH).
	SMSTemplates smstext.Templates
	Queue        QueueConfig
	// Limits are the abuse controls; TrustedProxies the networks whose
	// X-Forwarded-For names the client.
	Limits         domain.Limits
	TrustedProxies []netip.Prefix
	// CORSOrigins are the web origins allowed to use /api/v1/ cross-site.
	CORSOrigins []string
}

// UsesRedis reports whether anything in this configuration lives on Redis.
func (c Config) UsesRedis() bool {
	return c.Store == StoreRedis || c.Queue.UsesRedis()
}

// Getenv is os.Getenv's signature, so tests can pass a map lookup.
type Getenv func(string) string

// Load parses and validates the environment. The error, if any, has one line
// per bad or missing value, each naming its variable.
func Load(getenv Getenv) (Config, error) {
	p := parser{getenv: getenv}
	cfg := Config{
		Addr:            p.str("VERIFY_ADDR", ":8000"),
		Store:           p.oneOf("VERIFY_STORE", StoreMemory, StoreMemory, StoreRedis),
		RedisURL:        p.str("VERIFY_REDIS_URL", "redis://127.0.0.1:6379/2"),
		DefaultRegion:   strings.ToUpper(p.str("VERIFY_DEFAULT_REGION", "CN")),
		Language:        p.language("VERIFY_LANGUAGE"),
		LogLevel:        p.level("VERIFY_LOG_LEVEL"),
		SMSWorkers:      p.positiveInt("VERIFY_SMS_WORKERS", DefaultSMSConcurrency),
		SMSRate:         p.smsRate(),
		SMSQueueSize:    p.positiveInt("VERIFY_SMS_QUEUE_SIZE", 1024),
		ShutdownTimeout: p.duration("VERIFY_SHUTDOWN_TIMEOUT", 10*time.Second),
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		p.fail("VERIFY_ADDR=%q: want host:port such as :8000 or 127.0.0.1:8000", cfg.Addr)
	}
	if !phonenumber.IsKnownRegion(cfg.DefaultRegion) {
		p.fail("VERIFY_DEFAULT_REGION=%q: want an ISO 3166-1 alpha-2 region such as CN or US", cfg.DefaultRegion)
	}
	cfg.SMSTemplates = p.smsTemplates()
	cfg.Queue = p.queue()
	cfg.Limits = p.limits(cfg.DefaultRegion)
	cfg.TrustedProxies = p.prefixes("VERIFY_TRUSTED_PROXIES")
	cfg.CORSOrigins = p.corsOrigins()
	if cfg.UsesRedis() {
		if _, err := rueidis.ParseURL(cfg.RedisURL); err != nil {
			// url.Parse errors quote the whole URL, password included.
			msg := strings.ReplaceAll(err.Error(), cfg.RedisURL, redactURL(cfg.RedisURL))
			p.fail("VERIFY_REDIS_URL=%q: %s", redactURL(cfg.RedisURL), msg)
		}
	}

	secret := getenv("VERIFY_CODE_SECRET")
	switch {
	case secret != "" && len(secret) < domain.MinCodeSecretLength:
		p.fail("VERIFY_CODE_SECRET: must be at least %d bytes, got %d", domain.MinCodeSecretLength, len(secret))
	case secret != "":
		cfg.CodeSecret = []byte(secret)
	case cfg.Store == StoreRedis:
		// Codes outlive a process in Redis, and several instances must agree.
		p.fail("VERIFY_CODE_SECRET: required (at least %d bytes) when VERIFY_STORE=redis", domain.MinCodeSecretLength)
	case cfg.Queue.UsesRedis():
		// Queued texts are sealed with it, and smsworker must open them.
		p.fail("VERIFY_CODE_SECRET: required (at least %d bytes) when VERIFY_SMS_QUEUE=redis", domain.MinCodeSecretLength)
	default:
		// Memory codes die with the process, so a per-process key is enough.
		cfg.CodeSecret = make([]byte, 32)
		if _, err := rand.Read(cfg.CodeSecret); err != nil {
			p.fail("VERIFY_CODE_SECRET: cannot generate one: %v", err)
		}
	}

	p.smsProviders(&cfg)
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
