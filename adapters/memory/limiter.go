package memory

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// Limiter is an in-process sliding-window rate limiter. It is exact and
// atomic within one process; several processes need the Redis limiter.
type Limiter struct {
	clock domain.Clock

	mu        sync.Mutex
	logs      map[string]limiterLog
	nextSweep time.Time
}

type limiterLog struct {
	events eventLog
	keep   time.Duration
}

var _ domain.RateLimiter = (*Limiter)(nil)

// NewLimiter returns a limiter measuring time with clock; nil panics.
func NewLimiter(clock domain.Clock) *Limiter {
	if clock == nil {
		panic("memory: NewLimiter needs a non-nil domain.Clock")
	}
	return &Limiter{clock: clock, logs: make(map[string]limiterLog)}
}

// Take records one event under key if every quota has room.
func (l *Limiter) Take(ctx context.Context, key string, quotas []domain.Quota) error {
	if len(quotas) == 0 {
		return nil
	}
	if err := validQuotas(quotas); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	l.maybeSweep(now)
	log := l.logs[key]
	if d := log.events.wait(now, quotas); d > 0 {
		return &domain.ThrottledError{RetryAfter: retryAfter(d)}
	}
	log.keep = max(log.keep, longestWindow(quotas))
	log.events = log.events.add(now, log.keep)
	l.logs[key] = log
	return nil
}

// Check tells, recording nothing, whether Take would refuse now.
func (l *Limiter) Check(ctx context.Context, key string, quotas []domain.Quota) error {
	if len(quotas) == 0 {
		return nil
	}
	if err := validQuotas(quotas); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if d := l.logs[key].events.wait(now, quotas); d > 0 {
		return &domain.ThrottledError{RetryAfter: retryAfter(d)}
	}
	return nil
}

func validQuotas(quotas []domain.Quota) error {
	for _, q := range quotas {
		if !q.Valid() {
			return errors.New("memory: invalid quota " + q.String())
		}
	}
	return nil
}

// maybeSweep forgets logs whose last event is older than their longest
// window, so addresses seen once do not stay forever. The caller holds l.mu.
func (l *Limiter) maybeSweep(now time.Time) {
	if now.Before(l.nextSweep) {
		return
	}
	l.nextSweep = now.Add(sweepEvery)
	for key, log := range l.logs {
		if len(log.events) == 0 || !now.Before(log.events[len(log.events)-1].Add(log.keep)) {
			delete(l.logs, key)
		}
	}
}
