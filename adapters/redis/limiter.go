package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/domain"
)

// takeScript is a sliding-window log limiter: the sorted set KEYS[1] holds
// one member per counted event, scored by the server's time in ms, and is
// kept ARGV[2] ms (the longest window). If every (max, window ms) pair from
// ARGV[3] on has room it adds member ARGV[1] and returns 0; otherwise it adds
// nothing and returns the ms until all pairs have room. A repeat after a
// dropped connection can only count one event more, so it is retryable.
var takeScript = rueidis.NewLuaScriptRetryable(slidingWindowLua + `
local now = server_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local wait = window_wait(KEYS[1], now, 3)
if wait > 0 then
  return wait
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
`)

// checkScript answers what takeScript would refuse with, writing nothing:
// the ms until every (max, window ms) pair from ARGV[1] on has room in
// KEYS[1], else 0. Writing nothing, it is safe to repeat.
var checkScript = rueidis.NewLuaScriptRetryable(slidingWindowLua + `
local now = server_ms()
return window_wait(KEYS[1], now, 1)
`)

// Limiter implements domain.RateLimiter on Redis with one Lua script per
// call, so limits hold across any number of verifyd instances. Each key is
// one sorted set holding at most the largest quota's count of members.
type Limiter struct {
	client rueidis.Client
	prefix string // before every key; empty in production
}

var _ domain.RateLimiter = (*Limiter)(nil)

// NewLimiter returns a Limiter using client, which the caller keeps and
// closes. A nil client panics.
func NewLimiter(client rueidis.Client) *Limiter {
	if client == nil {
		panic("redis: NewLimiter needs a non-nil rueidis.Client")
	}
	return &Limiter{client: client}
}

// WithKeyPrefix returns a Limiter on the same client that puts prefix before
// each of its Redis keys. Some keys are one for the whole service (the SMS
// budget), so two deployments, or two test runs, sharing a Redis database
// share those limits unless each has a prefix of its own.
func (l *Limiter) WithKeyPrefix(prefix string) *Limiter {
	return &Limiter{client: l.client, prefix: prefix}
}

// limiterKey wraps key in a hash tag: one limiter key is one cluster slot.
func (l *Limiter) limiterKey(key string) string { return l.prefix + "rl_{" + key + "}" }

// Take records one event under key if every quota has room.
func (l *Limiter) Take(ctx context.Context, key string, quotas []domain.Quota) error {
	if len(quotas) == 0 {
		return nil
	}
	qargs, longest, err := quotaArgs(quotas)
	if err != nil {
		return err
	}
	args := append([]string{eventID(), formatMillis(longest)}, qargs...)
	wait, err := takeScript.Exec(ctx, l.client, []string{l.limiterKey(key)}, args).AsInt64()
	if err != nil {
		return storeError("rate limit", err)
	}
	if wait > 0 {
		return &domain.ThrottledError{RetryAfter: time.Duration(wait) * time.Millisecond}
	}
	return nil
}

// Check tells, recording nothing, whether Take would refuse now.
func (l *Limiter) Check(ctx context.Context, key string, quotas []domain.Quota) error {
	if len(quotas) == 0 {
		return nil
	}
	args, _, err := quotaArgs(quotas)
	if err != nil {
		return err
	}
	wait, err := checkScript.Exec(ctx, l.client, []string{l.limiterKey(key)}, args).AsInt64()
	if err != nil {
		return storeError("rate limit check", err)
	}
	if wait > 0 {
		return &domain.ThrottledError{RetryAfter: time.Duration(wait) * time.Millisecond}
	}
	return nil
}

// quotaArgs flattens quotas into (max, window ms) script arguments.
func quotaArgs(quotas []domain.Quota) ([]string, time.Duration, error) {
	args := make([]string, 0, 2*len(quotas))
	var longest time.Duration
	for _, q := range quotas {
		if !q.Valid() {
			return nil, 0, fmt.Errorf("redis: invalid quota %s", q)
		}
		args = append(args, strconv.Itoa(q.Max), formatMillis(q.Window))
		longest = max(longest, q.Window)
	}
	return args, longest, nil
}

// eventID makes a sorted-set member unique even for events in the same ms.
func eventID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
