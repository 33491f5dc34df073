package wiring

import (
	"context"
	"fmt"

	"github.com/google/wire"

	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/adapters/memory"
	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/cmd/internal/config"
	"github.com/lemonmall/verifyd/domain"
)

var backendSet = wire.NewSet(
	ProvideBackend,
	ProvideChallengeStore,
	ProvideCodeStore,
	ProvideLimiter,
)

// Store is what verifyd needs from a store backend.
type Store interface {
	domain.ChallengeStore
	domain.CodeStore
	Ping(ctx context.Context) error
}

// Backend is the store and the rate limiter of one VERIFY_STORE. Limits must
// be shared by every instance exactly when codes are, so one switch picks
// both.
type Backend struct {
	Store   Store
	Limiter domain.RateLimiter
}

// ProvideBackend opens the configured store and its limiter.
func ProvideBackend(store config.StoreConfig, r *Redis, clock domain.Clock) (Backend, error) {
	switch store.Kind {
	case config.StoreMemory:
		return Backend{Store: memory.NewStore(clock), Limiter: memory.NewLimiter(clock)}, nil
	case config.StoreRedis:
		return Backend{Store: redis.NewStore(r.Client), Limiter: redis.NewLimiter(r.Client)}, nil
	}
	return Backend{}, fmt.Errorf("VERIFY_STORE=%q: want memory or redis", store.Kind)
}

// ProvideChallengeStore narrows the backend to the captcha port.
func ProvideChallengeStore(b Backend) domain.ChallengeStore { return b.Store }

// ProvideCodeStore narrows the backend to the SMS code port.
func ProvideCodeStore(b Backend) domain.CodeStore { return b.Store }

// ProvideLimiter narrows the backend to the rate limit port.
func ProvideLimiter(b Backend) domain.RateLimiter { return b.Limiter }

// ProvideReadiness reports the service ready when its store answers and,
// when the SMS queue is on Redis but the store is not, when Redis does too:
// otherwise every SMS request would fail while /readyz said 200.
func ProvideReadiness(store config.StoreConfig, b Backend, r *Redis) httpapi.ReadinessCheck {
	if store.Kind == config.StoreRedis || r.Client == nil {
		return b.Store.Ping
	}
	queue := redis.NewStore(r.Client)
	return func(ctx context.Context) error {
		if err := b.Store.Ping(ctx); err != nil {
			return err
		}
		return queue.Ping(ctx)
	}
}
