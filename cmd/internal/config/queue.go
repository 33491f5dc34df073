package config

import (
	"net"
	"time"

	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/domain"
)

// SMS queues.
const (
	// QueueMemory keeps accepted messages in verifyd's memory and sends them
	// from there: nothing else to run, but a crash loses what is queued.
	QueueMemory = "memory"
	// QueueRedis appends them to a Redis stream that smsworker processes
	// send from.
	QueueRedis = "redis"
)

// MinVisibilityTimeout is the shortest VERIFY_SMS_VISIBILITY_TIMEOUT: a live
// worker renews its messages every third of it, so shorter would mostly
// measure Redis round trips.
const MinVisibilityTimeout = time.Second

// QueueConfig chooses where accepted SMS messages wait for delivery and how
// their sends are retried.
type QueueConfig struct {
	// Kind is QueueMemory or QueueRedis (VERIFY_SMS_QUEUE).
	Kind string
	// Stream is the Redis stream key (VERIFY_SMS_STREAM); its dead-letter
	// stream is Stream + "_dead".
	Stream string
	// MaxLen is how many messages the stream holds before verifyd answers
	// 503 (VERIFY_SMS_STREAM_MAXLEN).
	MaxLen int
	// VisibilityTimeout is how long a message taken by a worker that died
	// stays hidden from the others (VERIFY_SMS_VISIBILITY_TIMEOUT).
	VisibilityTimeout time.Duration
	// MaxAttempts bounds the sends of one message, first try included
	// (VERIFY_SMS_MAX_ATTEMPTS); both queues use it.
	MaxAttempts int
	// Backoff is the wait before the first retry, doubling up to MaxBackoff
	// (VERIFY_SMS_RETRY_BACKOFF, VERIFY_SMS_RETRY_MAX_BACKOFF); both queues
	// use them.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// WorkerAddr is where smsworker serves /metrics, /healthz and /readyz
	// (VERIFY_WORKER_ADDR); it differs from VERIFY_ADDR's default so both
	// can run on one host.
	WorkerAddr string
}

// DeliveryPolicy is the retry rule both queues send by.
func (q QueueConfig) DeliveryPolicy() domain.DeliveryPolicy {
	return domain.DeliveryPolicy{MaxAttempts: q.MaxAttempts, Backoff: q.Backoff, MaxBackoff: q.MaxBackoff}
}

// UsesRedis reports whether the queue lives on Redis.
func (q QueueConfig) UsesRedis() bool { return q.Kind == QueueRedis }

// queue reads the VERIFY_SMS_* queue variables. A Redis queue with a memory
// store is allowed: codes stay in the process (so a generated secret still
// does), only messages go through Redis.
func (p *parser) queue() QueueConfig {
	retry := domain.DefaultDeliveryPolicy()
	q := QueueConfig{
		Kind:              p.oneOf("VERIFY_SMS_QUEUE", QueueMemory, QueueMemory, QueueRedis),
		Stream:            p.str("VERIFY_SMS_STREAM", redis.DefaultStream),
		MaxLen:            p.positiveInt("VERIFY_SMS_STREAM_MAXLEN", redis.DefaultOutboxMaxLen),
		VisibilityTimeout: p.duration("VERIFY_SMS_VISIBILITY_TIMEOUT", redis.DefaultVisibilityTimeout),
		MaxAttempts:       p.positiveInt("VERIFY_SMS_MAX_ATTEMPTS", retry.MaxAttempts),
		Backoff:           p.duration("VERIFY_SMS_RETRY_BACKOFF", retry.Backoff),
		MaxBackoff:        p.duration("VERIFY_SMS_RETRY_MAX_BACKOFF", retry.MaxBackoff),
		WorkerAddr:        p.str("VERIFY_WORKER_ADDR", ":8001"),
	}
	if _, _, err := net.SplitHostPort(q.WorkerAddr); err != nil {
		p.fail("VERIFY_WORKER_ADDR=%q: want host:port such as :8001", q.WorkerAddr)
	}
	if q.VisibilityTimeout < MinVisibilityTimeout {
		p.fail("VERIFY_SMS_VISIBILITY_TIMEOUT=%q: want at least %s", q.VisibilityTimeout, MinVisibilityTimeout)
		q.VisibilityTimeout = redis.DefaultVisibilityTimeout
	}
	if q.MaxBackoff < q.Backoff {
		p.fail("VERIFY_SMS_RETRY_MAX_BACKOFF=%q: must not be shorter than VERIFY_SMS_RETRY_BACKOFF (%s)", q.MaxBackoff, q.Backoff)
	}
	return q
}
