package config

import (
	"strings"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

func TestLoad_QueueDefaultsToTheInProcessPool(t *testing.T) {
	cfg, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	q := cfg.Queue
	if q.Kind != QueueMemory || q.UsesRedis() || cfg.UsesRedis() {
		t.Errorf("default queue %+v uses Redis", q)
	}
	if q.Stream != "sms_outbox" || q.MaxLen != 100_000 || q.VisibilityTimeout != 30*time.Second ||
		q.MaxAttempts != 4 || q.Backoff != 500*time.Millisecond || q.MaxBackoff != 10*time.Second {
		t.Errorf("defaults %+v", q)
	}
	if q.DeliveryPolicy() != domain.DefaultDeliveryPolicy() {
		t.Errorf("default delivery policy %+v, want the domain's %+v", q.DeliveryPolicy(), domain.DefaultDeliveryPolicy())
	}
}

// A Redis queue needs the shared secret even in front of a memory store:
// queued texts are sealed with it and smsworker must open them.
func TestLoad_RedisQueueNeedsTheSecret(t *testing.T) {
	_, err := Load(env(map[string]string{"VERIFY_SMS_QUEUE": "Redis"}))
	if err == nil || !strings.Contains(err.Error(), "VERIFY_CODE_SECRET: required") || !strings.Contains(err.Error(), "VERIFY_SMS_QUEUE=redis") {
		t.Fatalf("err = %v, want the secret required for the Redis queue", err)
	}
	cfg, err := Load(env(map[string]string{"VERIFY_SMS_QUEUE": "redis", "VERIFY_CODE_SECRET": strings.Repeat("k", 32)}))
	if err != nil || cfg.Queue.Kind != QueueRedis || !cfg.UsesRedis() || cfg.Store.Kind != StoreMemory {
		t.Fatalf("cfg %+v, %v", cfg, err)
	}
}

func TestLoad_RedisQueueAndStoreNeedTheSecret(t *testing.T) {
	_, err := Load(env(map[string]string{"VERIFY_SMS_QUEUE": "redis", "VERIFY_STORE": "redis"}))
	if err == nil || !strings.Contains(err.Error(), "VERIFY_CODE_SECRET: required") {
		t.Fatalf("err = %v", err)
	}
}

// The Redis URL is checked whenever anything lives on Redis, the queue alone
// included, and its password is never echoed.
func TestLoad_RedisQueueChecksTheRedisURL(t *testing.T) {
	_, err := Load(env(map[string]string{
		"VERIFY_SMS_QUEUE": "redis",
		"VERIFY_REDIS_URL": "redis://user:hunter2@[::1:6379",
	}))
	if err == nil || !strings.HasPrefix(err.Error(), "VERIFY_REDIS_URL=") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoad_QueueTunables(t *testing.T) {
	cfg, err := Load(env(map[string]string{
		"VERIFY_SMS_QUEUE":              "redis",
		"VERIFY_CODE_SECRET":            strings.Repeat("k", 32),
		"VERIFY_SMS_STREAM":             "tenant_a_sms",
		"VERIFY_SMS_STREAM_MAXLEN":      "500",
		"VERIFY_SMS_VISIBILITY_TIMEOUT": "2s",
		"VERIFY_SMS_MAX_ATTEMPTS":       "6",
		"VERIFY_SMS_RETRY_BACKOFF":      "50ms",
		"VERIFY_SMS_RETRY_MAX_BACKOFF":  "1s",
		"VERIFY_WORKER_ADDR":            "127.0.0.1:9101",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := QueueConfig{Kind: QueueRedis, Stream: "tenant_a_sms", MaxLen: 500, VisibilityTimeout: 2 * time.Second,
		MaxAttempts: 6, Backoff: 50 * time.Millisecond, MaxBackoff: time.Second, WorkerAddr: "127.0.0.1:9101"}
	if cfg.Queue != want {
		t.Errorf("queue %+v, want %+v", cfg.Queue, want)
	}
}

func TestLoad_BadQueueValuesNameTheirVariableOnOneLineEach(t *testing.T) {
	_, err := Load(env(map[string]string{
		"VERIFY_SMS_QUEUE":              "kafka",
		"VERIFY_SMS_STREAM_MAXLEN":      "-1",
		"VERIFY_SMS_VISIBILITY_TIMEOUT": "100ms",
		"VERIFY_SMS_MAX_ATTEMPTS":       "0",
		"VERIFY_SMS_RETRY_BACKOFF":      "soon",
		"VERIFY_SMS_RETRY_MAX_BACKOFF":  "-1s",
	}))
	if err == nil {
		t.Fatal("bad values accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, want := range []string{
		`VERIFY_SMS_QUEUE="kafka": want memory or redis`,
		`VERIFY_SMS_STREAM_MAXLEN="-1": want a positive integer`,
		`VERIFY_SMS_VISIBILITY_TIMEOUT="100ms": want at least 1s`,
		`VERIFY_SMS_MAX_ATTEMPTS="0": want a positive integer`,
		`VERIFY_SMS_RETRY_BACKOFF="soon": want a positive duration`,
		`VERIFY_SMS_RETRY_MAX_BACKOFF="-1s": want a positive duration`,
	} {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, want) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d lines start with %s:\n%s", n, want, err)
		}
	}
	if len(lines) != 6 {
		t.Errorf("%d lines, want 6:\n%s", len(lines), err)
	}
}

func TestLoad_MaxBackoffMustNotBeShorterThanBackoff(t *testing.T) {
	_, err := Load(env(map[string]string{"VERIFY_SMS_RETRY_BACKOFF": "2s", "VERIFY_SMS_RETRY_MAX_BACKOFF": "1s"}))
	if err == nil || err.Error() != `VERIFY_SMS_RETRY_MAX_BACKOFF="1s": must not be shorter than VERIFY_SMS_RETRY_BACKOFF (2s)` {
		t.Fatalf("err = %v", err)
	}
}

func TestLoad_WorkerAddrDefaultsBesideVerifydAndIsChecked(t *testing.T) {
	cfg, err := Load(env(nil))
	if err != nil || cfg.Queue.WorkerAddr != ":8001" {
		t.Fatalf("WorkerAddr %q, %v; want :8001", cfg.Queue.WorkerAddr, err)
	}
	if _, err := Load(env(map[string]string{"VERIFY_WORKER_ADDR": "8001"})); err == nil || !strings.Contains(err.Error(), "VERIFY_WORKER_ADDR=") {
		t.Fatalf("err = %v, want one naming VERIFY_WORKER_ADDR", err)
	}
}
