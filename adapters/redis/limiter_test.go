package redis_test

import (
	"errors"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/redis/redistest"
	"github.com/lemonmall/verifyd/adapters/storetest"
	"github.com/lemonmall/verifyd/domain"
)

func TestLimiter_Contract(t *testing.T) {
	client := redistest.Client(t)
	storetest.RunLimiter(t, func(*testing.T) domain.RateLimiter { return redis.NewLimiter(client) })
}

// Limiters with different key prefixes on one Redis keep separate counts
// under the same key, such as the service-wide SMS budget; the same prefix
// shares them.
func TestLimiter_KeyPrefixSeparatesDeployments(t *testing.T) {
	client := redistest.Client(t)
	key := "sms:global"
	q := []domain.Quota{{Max: 1, Window: time.Minute}}
	base := redis.NewLimiter(client)
	a := base.WithKeyPrefix("test_" + randomHex(t, 12) + ":")
	b := base.WithKeyPrefix("test_" + randomHex(t, 12) + ":")
	for name, l := range map[string]*redis.Limiter{"a": a, "b": b} {
		if err := l.Take(t.Context(), key, q); err != nil {
			t.Fatalf("first event under prefix %s: %v", name, err)
		}
	}
	var te *domain.ThrottledError
	if err := a.Take(t.Context(), key, q); !errors.As(err, &te) {
		t.Fatalf("second event under prefix a = %v, want ThrottledError", err)
	}
}
