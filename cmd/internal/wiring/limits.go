package wiring

import (
	"fmt"

	"github.com/google/wire"

	"github.com/lemonmall/verifyd/adapters/memory"
	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/cmd/internal/config"
	"github.com/lemonmall/verifyd/domain"
)

var limitSet = wire.NewSet(ProvideLimiter)

// ProvideLimiter keeps rate limits where the store keeps codes: limits must
// be shared by every instance exactly when codes are.
func ProvideLimiter(cfg config.Config, r *Redis, clock domain.Clock) (domain.RateLimiter, error) {
	switch cfg.Store {
	case config.StoreMemory:
		return memory.NewLimiter(clock), nil
	case config.StoreRedis:
		return redis.NewLimiter(r.Client), nil
	}
	return nil, fmt.Errorf("VERIFY_STORE=%q: want memory or redis", cfg.Store)
}
