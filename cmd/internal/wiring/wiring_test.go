package wiring

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/lemonmall/verifyd/adapters/failoversms"
	"github.com/lemonmall/verifyd/adapters/memory"
	"github.com/lemonmall/verifyd/adapters/metrics"
	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/redis/redistest"
	"github.com/lemonmall/verifyd/adapters/system"
	"github.com/lemonmall/verifyd/adapters/tencentsms"
	"github.com/lemonmall/verifyd/cmd/internal/config"
)

func load(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestProvideRedis_TheEmbeddedDefaultNeverDials(t *testing.T) {
	// An address nothing listens on: dialling it would fail.
	cfg := load(t, map[string]string{"VERIFY_REDIS_URL": "redis://127.0.0.1:1/0"})
	r, cleanup, err := ProvideRedis(t.Context(), cfg.Redis, cfg.Store, cfg.Queue)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if r.Client != nil {
		t.Fatal("memory configuration opened a Redis client")
	}
	b, err := ProvideBackend(cfg.Store, r, system.Clock{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Store.(*memory.Store); !ok {
		t.Fatalf("store is %T, want *memory.Store", b.Store)
	}
	if _, ok := b.Limiter.(*memory.Limiter); !ok {
		t.Fatalf("limiter is %T, want *memory.Limiter", b.Limiter)
	}
}

func TestProvideRedis_RedisConfigurationSharesOneClient(t *testing.T) {
	cfg := load(t, map[string]string{
		"VERIFY_STORE":       "redis",
		"VERIFY_REDIS_URL":   redistest.URL(t),
		"VERIFY_CODE_SECRET": strings.Repeat("s", 32),
	})
	r, cleanup, err := ProvideRedis(t.Context(), cfg.Redis, cfg.Store, cfg.Queue)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	b, err := ProvideBackend(cfg.Store, r, system.Clock{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Store.(*redis.Store); !ok {
		t.Fatalf("store is %T, want *redis.Store", b.Store)
	}
	if err := b.Store.Ping(t.Context()); err != nil {
		t.Fatalf("store does not reach Redis: %v", err)
	}
	if _, ok := b.Limiter.(*redis.Limiter); !ok {
		t.Fatalf("limiter is %T, want *redis.Limiter", b.Limiter)
	}
}

func TestProvideRedis_UnreachableRedisFailsStartWithTheVariableName(t *testing.T) {
	cfg := load(t, map[string]string{
		"VERIFY_STORE":       "redis",
		"VERIFY_REDIS_URL":   "redis://127.0.0.1:1/0",
		"VERIFY_CODE_SECRET": strings.Repeat("s", 32),
	})
	_, _, err := ProvideRedis(t.Context(), cfg.Redis, cfg.Store, cfg.Queue)
	if err == nil || !strings.HasPrefix(err.Error(), "VERIFY_REDIS_URL") {
		t.Fatalf("err = %v, want one naming VERIFY_REDIS_URL", err)
	}
}

func TestProvideSender_PicksTheConfiguredProvider(t *testing.T) {
	cfg := load(t, nil)
	text, err := ProvideSMSText(cfg.SMS.Templates, cfg.Locale.Language)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ProvideSender(cfg.SMS, slog.Default(), text, metrics.New())
	if err != nil || s == nil {
		t.Fatalf("log sender: %v", err)
	}
	cfg.SMS.Providers = []string{"pigeon"}
	if _, err := ProvideSender(cfg.SMS, slog.Default(), text, metrics.New()); err == nil || !strings.Contains(err.Error(), "VERIFY_SMS_PROVIDER") {
		t.Fatalf("unknown provider err = %v", err)
	}
}

func TestProvideReadiness_ChecksRedisWhenOnlyTheQueueIsThere(t *testing.T) {
	cfg := load(t, map[string]string{
		"VERIFY_SMS_QUEUE":   "redis",
		"VERIFY_REDIS_URL":   redistest.URL(t),
		"VERIFY_CODE_SECRET": strings.Repeat("s", 32),
	})
	r, cleanup, err := ProvideRedis(t.Context(), cfg.Redis, cfg.Store, cfg.Queue)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ProvideBackend(cfg.Store, r, system.Clock{})
	ready := ProvideReadiness(cfg.Store, b, r)
	if err := ready(t.Context()); err != nil {
		t.Fatalf("ready with Redis up: %v", err)
	}
	cleanup() // the connection is gone, as in an outage
	if err := ready(t.Context()); err == nil {
		t.Fatal("ready without Redis, though SMS requests need it")
	}
}

func TestProvideSender_ListFailsOverInOrder(t *testing.T) {
	cfg := load(t, map[string]string{
		"VERIFY_SMS_PROVIDER":             "aliyun, Tencent",
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     "id",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret",
		"ALIYUN_SMS_SIGN_NAME":            "verifyd",
		"ALIYUN_SMS_TEMPLATE_CODE":        "SMS_1",
		"TENCENTCLOUD_SECRET_ID":          "id",
		"TENCENTCLOUD_SECRET_KEY":         "key",
		"TENCENT_SMS_SDK_APP_ID":          "1400000001",
		"TENCENT_SMS_SIGN_NAME":           "verifyd",
		"TENCENT_SMS_TEMPLATE_ID":         "1",
	})
	text, err := ProvideSMSText(cfg.SMS.Templates, cfg.Locale.Language)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ProvideSender(cfg.SMS, slog.Default(), text, metrics.New())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*failoversms.Sender); !ok {
		t.Fatalf("got %T, want a failover sender", s)
	}
	cfg.SMS.Providers = cfg.SMS.Providers[1:]
	if s, err := ProvideSender(cfg.SMS, slog.Default(), text, metrics.New()); err != nil {
		t.Fatal(err)
	} else if _, ok := s.(*tencentsms.Sender); !ok {
		t.Fatalf("one provider: got %T, want it alone", s)
	}
}
