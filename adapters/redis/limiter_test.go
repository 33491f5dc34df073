package redis_test

import (
	"testing"

	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/redis/redistest"
	"github.com/lemonmall/verifyd/adapters/storetest"
	"github.com/lemonmall/verifyd/domain"
)

func TestLimiter_Contract(t *testing.T) {
	client := redistest.Client(t)
	storetest.RunLimiter(t, func(*testing.T) domain.RateLimiter { return redis.NewLimiter(client) })
}
