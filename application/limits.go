package application

import (
	"context"

	"github.com/lemonmall/verifyd/domain"
)

// take counts one event against lim; the domain says which quotas apply, the
// use case asks the limiter, so the domain stays free of I/O.
func take(ctx context.Context, limiter domain.RateLimiter, lim domain.Limit) error {
	if lim.None() {
		return nil
	}
	return limiter.Take(ctx, lim.Key, lim.Quotas)
}

// check tells, counting nothing, whether take would refuse lim now.
func check(ctx context.Context, limiter domain.RateLimiter, lim domain.Limit) error {
	if lim.None() {
		return nil
	}
	return limiter.Check(ctx, lim.Key, lim.Quotas)
}
