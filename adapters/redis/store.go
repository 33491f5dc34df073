// Package redis provides the Redis adapters, built on rueidis. They work with
// a standalone Redis 6.2 or later and with Redis Cluster: every multi-key
// operation touches keys of one phone only, and those share a hash tag.
package redis

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/domain"
)

// Timeouts Dial uses unless the URL sets dial_timeout or write_timeout: a
// Redis that does not answer within them is treated as down rather than
// holding requests.
const (
	DefaultDialTimeout  = 2 * time.Second
	DefaultWriteTimeout = 2 * time.Second
	// MaxFlushDelay is how long the connection's writer waits for more
	// commands after each write (rueidis's MaxFlushDelay).
	MaxFlushDelay = 20 * time.Microsecond
)

// Dial connects to the Redis named by url, as parsed by rueidis.ParseURL:
// redis://[user:password@]host:port/db, rediss:// for TLS, extra seed nodes
// with ?addr=host:port. A cluster is detected on its own. Client-side caching
// is off so any Redis 6.2+ works. A retryable command that finds its
// connection dropped is sent again on a new one (retryLostConnection). The
// connection is checked with a PING bounded by ctx; errors reaching the
// server wrap domain.ErrStoreUnavailable.
//
// Commands from concurrent requests share one connection per Redis node
// (rueidis's default is two on a 2-core machine, four above) and the writer
// waits up to MaxFlushDelay after each write for more of them: on a loaded
// machine a write system call then carries several requests' commands, which
// measured 10-20% more SMS requests per second on 2 cores (docs/BENCHMARKS.md)
// for at most 20 µs more per command.
func Dial(ctx context.Context, url string) (rueidis.Client, error) {
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: parse url: %w", err)
	}
	if opt.Dialer.Timeout == 0 {
		opt.Dialer.Timeout = DefaultDialTimeout
	}
	if opt.ConnWriteTimeout == 0 {
		opt.ConnWriteTimeout = DefaultWriteTimeout
	}
	opt.DisableCache = true
	opt.RetryDelay = retryLostConnection
	opt.PipelineMultiplex = -1
	opt.MaxFlushDelay = MaxFlushDelay
	if err := ctx.Err(); err != nil {
		return nil, unavailable("dial", err)
	}
	client, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, unavailable("dial", err)
	}
	if err := ping(ctx, client); err != nil {
		client.Close()
		return nil, err
	}
	return client, nil
}

// Keys. The captcha key and its plain string value are the Django seed's, so
// both implementations can share a Redis during a migration. Per-phone keys
// carry the number in a hash tag, so that in a cluster they share one slot and
// one Lua script may touch them together.
func challengeKey(id domain.ChallengeID) string  { return "img_" + string(id) }
func codeKey(phone domain.PhoneNumber) string    { return "sms_{" + phone.E164() + "}" }
func resendKey(phone domain.PhoneNumber) string  { return "send_flag_{" + phone.E164() + "}" }
func sendLogKey(phone domain.PhoneNumber) string { return "sms_log_{" + phone.E164() + "}" }

// issueScript refuses with the ms left while the resend slot (KEYS[1])
// exists or while a quota on the send log (KEYS[3]) is full. Otherwise it
// claims the slot for ARGV[3] ms, replaces the code hash (KEYS[2]) with digest
// ARGV[1], zero attempts and a TTL of ARGV[2] ms, and logs the send as member
// ARGV[4] kept for ARGV[5] ms. Quota pairs follow from ARGV[6]. It returns 0
// when issued. Time is the server's, so instances with skewed clocks agree.
var issueScript = rueidis.NewLuaScriptRetryable(slidingWindowLua + `
local left = redis.call('PTTL', KEYS[1])
if left == -1 then
  -- A slot without expiry would lock the phone out for good: repair it.
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  left = tonumber(ARGV[3])
end
if left > 0 then
  return left
end
if #ARGV >= 6 then
  local now = server_ms()
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[5]))
  local wait = window_wait(KEYS[3], now, 6)
  if wait > 0 then
    return wait
  end
  redis.call('ZADD', KEYS[3], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[3], ARGV[5])
end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[3])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'digest', ARGV[1], 'attempts', '0')
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 0
`)

// attemptScript counts one attempt on the code hash KEYS[1] and returns its
// digest, or nil when there is no code, when it is burned, or when this
// attempt is the one past ARGV[1]. That attempt burns the code (field
// 'burned') but does not delete it: an attempt counted within the limit may
// still hold the right answer and consume it, and every later attempt, with
// any limit, finds nothing until the code expires, is consumed or replaced.
var attemptScript = rueidis.NewLuaScriptRetryable(`
local code = redis.call('HMGET', KEYS[1], 'digest', 'burned')
if not code[1] or code[2] then
  return false
end
local n = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if n > tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'burned', '1')
  return false
end
return code[1]
`)

// withdrawScript deletes the code hash KEYS[2] if its digest equals ARGV[1],
// and then the resend slot KEYS[1] and the send log member ARGV[2] in KEYS[3].
var withdrawScript = rueidis.NewLuaScriptRetryable(`
if redis.call('HGET', KEYS[2], 'digest') == ARGV[1] then
  redis.call('DEL', KEYS[2], KEYS[1])
  redis.call('ZREM', KEYS[3], ARGV[2])
  return 1
end
return 0
`)

// consumeScript deletes the code hash KEYS[1] if its digest equals ARGV[1]
// and returns 1 if it did, else 0.
var consumeScript = rueidis.NewLuaScriptRetryable(`
if redis.call('HGET', KEYS[1], 'digest') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

// Store implements domain.ChallengeStore and domain.CodeStore on Redis. Every
// method is a single command or Lua script, so each is atomic on the server
// and safe across any number of verifyd instances.
//
// Every command is marked retryable: if one whose connection dropped had in
// fact run, running it again does no harm. Saving a challenge and
// withdrawing a code are idempotent; a repeated take, issue or consume finds
// its work done and answers as to a second request (not found, throttled,
// not consumed), never twice a success; a repeated attempt only counts one
// more try.
type Store struct {
	client rueidis.Client
}

var (
	_ domain.ChallengeStore = (*Store)(nil)
	_ domain.CodeStore      = (*Store)(nil)
)

// NewStore returns a Store using client, which the caller keeps and closes.
// A nil client is a wiring mistake, so it panics.
func NewStore(client rueidis.Client) *Store {
	if client == nil {
		panic("redis: NewStore needs a non-nil rueidis.Client")
	}
	return &Store{client: client}
}

// Ping reports whether Redis answers, for readiness checks.
func (s *Store) Ping(ctx context.Context) error { return ping(ctx, s.client) }

// SaveChallenge stores answer under id for ttl, replacing any earlier one.
func (s *Store) SaveChallenge(ctx context.Context, id domain.ChallengeID, answer string, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("redis: challenge ttl must be positive")
	}
	cmd := s.client.B().Set().Key(challengeKey(id)).Value(answer).PxMilliseconds(millis(ttl)).Build().ToRetryable()
	if err := s.client.Do(ctx, cmd).Error(); err != nil {
		return storeError("save challenge", err)
	}
	return nil
}

// TakeChallenge returns the answer stored under id and removes it (GETDEL).
func (s *Store) TakeChallenge(ctx context.Context, id domain.ChallengeID) (string, error) {
	answer, err := s.client.Do(ctx, s.client.B().Getdel().Key(challengeKey(id)).Build().ToRetryable()).ToString()
	if rueidis.IsRedisNil(err) {
		return "", domain.ErrChallengeNotFound
	}
	if err != nil {
		return "", storeError("take challenge", err)
	}
	return answer, nil
}

// IssueCode claims the phone's resend slot and a place in each of the code's
// quotas and, if all succeed, stores the code with a fresh attempt counter;
// otherwise it returns a *domain.ThrottledError and changes nothing.
func (s *Store) IssueCode(ctx context.Context, phone domain.PhoneNumber, nc domain.NewCode) error {
	if nc.TTL <= 0 || nc.ResendInterval <= 0 {
		return errors.New("redis: code ttl and resend interval must be positive")
	}
	args := []string{string(nc.Digest), formatMillis(nc.TTL), formatMillis(nc.ResendInterval)}
	if len(nc.Quotas) > 0 {
		quotaArgs, longest, err := quotaArgs(nc.Quotas)
		if err != nil {
			return err
		}
		// The log member names the code, so WithdrawCode can find it.
		args = append(args, logMember(nc.Digest), formatMillis(longest))
		args = append(args, quotaArgs...)
	}
	left, err := issueScript.Exec(ctx, s.client,
		[]string{resendKey(phone), codeKey(phone), sendLogKey(phone)}, args,
	).AsInt64()
	if err != nil {
		return storeError("issue code", err)
	}
	if left > 0 {
		return &domain.ThrottledError{RetryAfter: time.Duration(left) * time.Millisecond}
	}
	return nil
}

// AttemptCode counts one attempt and returns the stored digest; the attempt
// after the maxAttempts-th burns the code, and it and every later attempt find
// nothing. A burned code is kept, so ConsumeCode by an attempt counted within
// the limit still wins it.
func (s *Store) AttemptCode(ctx context.Context, phone domain.PhoneNumber, maxAttempts int) ([]byte, error) {
	digest, err := attemptScript.Exec(ctx, s.client,
		[]string{codeKey(phone)},
		[]string{strconv.Itoa(maxAttempts)},
	).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, domain.ErrCodeNotFound
	}
	if err != nil {
		return nil, storeError("attempt code", err)
	}
	return digest, nil
}

// WithdrawCode undoes an IssueCode of digest whose message was not handed
// over: code, resend slot and quota place go in one step.
func (s *Store) WithdrawCode(ctx context.Context, phone domain.PhoneNumber, digest []byte) error {
	err := withdrawScript.Exec(ctx, s.client,
		[]string{resendKey(phone), codeKey(phone), sendLogKey(phone)},
		[]string{string(digest), logMember(digest)},
	).Error()
	if err != nil {
		return storeError("withdraw code", err)
	}
	return nil
}

// ConsumeCode deletes the phone's code if its digest equals digest and
// reports whether it did.
func (s *Store) ConsumeCode(ctx context.Context, phone domain.PhoneNumber, digest []byte) (bool, error) {
	n, err := consumeScript.Exec(ctx, s.client,
		[]string{codeKey(phone)},
		[]string{string(digest)},
	).AsInt64()
	if err != nil {
		return false, storeError("consume code", err)
	}
	return n == 1, nil
}

// logMember is the send log's member for a code: the first 8 bytes of its
// digest in hex. A member only has to tell one phone's codes of the last day
// apart, and 16 characters instead of the digest's 64 save 48 bytes per send
// (docs/BENCHMARKS.md). A code issued by an older verifyd, logged under its
// whole digest, is not found by WithdrawCode: its quota place is then kept
// until the window passes, as for a code that was sent.
func logMember(digest []byte) string { return hex.EncodeToString(digest[:min(8, len(digest))]) }

func ping(ctx context.Context, client rueidis.Client) error {
	if err := client.Do(ctx, client.B().Ping().Build().ToRetryable()).Error(); err != nil {
		return storeError("ping", err)
	}
	return nil
}

// storeError wraps err from an operation. Anything but an error reply from
// Redis (network failure, timeout, closed client, cancelled context) and the
// replies that mean "not now" (LOADING, CLUSTERDOWN, TRYAGAIN, MASTERDOWN,
// READONLY during a failover, OOM, BUSY, NOREPLICAS) wrap
// domain.ErrStoreUnavailable: the request may
// succeed later. Other error replies are bugs and are only wrapped.
func storeError(op string, err error) error {
	if rerr, ok := rueidis.IsRedisErr(err); ok && !transient(rerr) {
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	return unavailable(op, err)
}

func unavailable(op string, err error) error {
	return fmt.Errorf("redis: %s: %w: %w", op, domain.ErrStoreUnavailable, err)
}

func transient(rerr *rueidis.RedisError) bool {
	if rerr.IsLoading() || rerr.IsClusterDown() || rerr.IsTryAgain() {
		return true
	}
	// OOM: maxmemory reached with noeviction; BUSY: a script or a module
	// holds the server; NOREPLICAS: min-replicas-to-write not met. All pass.
	msg := rerr.Error()
	for _, prefix := range []string{"MASTERDOWN", "READONLY", "OOM", "BUSY", "NOREPLICAS"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

// millis converts d to whole milliseconds for PX and PEXPIRE, rounding up so
// that a positive duration never becomes 0, which Redis refuses. (rueidis's
// Px(time.Duration) would truncate, and passing a bare int to it means
// nanoseconds.)
func millis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

func formatMillis(d time.Duration) string { return strconv.FormatInt(millis(d), 10) }
