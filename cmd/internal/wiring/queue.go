package wiring

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/lemonmall/verifyd/adapters/memory"
	"github.com/lemonmall/verifyd/adapters/metrics"
	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/smsrate"
	"github.com/lemonmall/verifyd/cmd/internal/config"
	"github.com/lemonmall/verifyd/domain"
)

// ProvideSealer keys the encryption of queued message texts with the code
// secret, which verifyd and smsworker share.
func ProvideSealer(secret config.Secret) (*redis.Sealer, error) {
	s, err := redis.NewSealer(secret)
	if err != nil {
		return nil, fmt.Errorf("VERIFY_CODE_SECRET: %w", err)
	}
	return s, nil
}

// ProvideOutbox picks where accepted messages wait. The in-process pool
// sends from verifyd itself and reports outcomes to m; its cleanup
// stops taking messages and waits, up to the shutdown timeout, for queued
// ones to be sent. The Redis queue only appends to the stream, which
// smsworker processes send from; it holds nothing to drain, and its depth is
// exported as metrics.
func ProvideOutbox(queue config.QueueConfig, sending config.SendingConfig, proc config.ProcessConfig,
	r *Redis, sender domain.SMSSender, clock domain.Clock, logger *slog.Logger, m *metrics.Metrics, sealer *redis.Sealer) (domain.SMSOutbox, func(), error) {
	sender = smsrate.Limit(sender, sending.Rate)
	switch queue.Kind {
	case config.QueueMemory:
		outbox := memory.NewOutbox(sender, clock, logger, memory.OutboxConfig{
			Workers:   sending.Workers,
			QueueSize: sending.QueueSize,
			Policy:    queue.DeliveryPolicy(),
			Observer:  m,
		})
		return outbox, func() {
			ctx, cancel := context.WithTimeout(context.Background(), proc.ShutdownTimeout)
			defer cancel()
			if err := outbox.Close(ctx); err != nil {
				logger.Error("sms outbox did not drain before shutdown", "err", err)
			}
		}, nil
	case config.QueueRedis:
		if r == nil || r.Client == nil {
			return nil, nil, fmt.Errorf("VERIFY_SMS_QUEUE=redis: no Redis connection")
		}
		outbox := redis.NewOutbox(r.Client, redis.OutboxOptions{
			Sealer: sealer,
			Keys:   queueKeys(queue),
			MaxLen: int64(queue.MaxLen),
		})
		registerQueueDepth(m, redis.NewQueueDepth(r.Client, queueKeys(queue)))
		return outbox, func() {}, nil
	}
	return nil, nil, fmt.Errorf("VERIFY_SMS_QUEUE=%q: want memory or redis", queue.Kind)
}

// ProvideWorker builds the sender of the Redis queue. It refuses any other
// queue: with VERIFY_SMS_QUEUE=memory verifyd sends by itself, and a worker
// would wait for messages that never come.
func ProvideWorker(queue config.QueueConfig, sending config.SendingConfig, proc config.ProcessConfig,
	r *Redis, sender domain.SMSSender, clock domain.Clock, logger *slog.Logger, m *metrics.Metrics, sealer *redis.Sealer) (*redis.Worker, error) {
	if queue.Kind != config.QueueRedis {
		return nil, fmt.Errorf("VERIFY_SMS_QUEUE=%q: smsworker sends from the Redis queue only; set VERIFY_SMS_QUEUE=redis here and for verifyd", queue.Kind)
	}
	if r == nil || r.Client == nil {
		return nil, fmt.Errorf("VERIFY_SMS_QUEUE=redis: no Redis connection")
	}
	w := redis.NewWorker(r.Client, smsrate.Limit(sender, sending.Rate), clock, logger, redis.WorkerOptions{
		Sealer:            sealer,
		Keys:              queueKeys(queue),
		Concurrency:       sending.Workers,
		VisibilityTimeout: queue.VisibilityTimeout,
		Policy:            queue.DeliveryPolicy(),
		ShutdownTimeout:   proc.ShutdownTimeout,
		Observer:          m,
	})
	registerQueueDepth(m, redis.NewQueueDepth(r.Client, queueKeys(queue)))
	return w, nil
}

// registerQueueDepth exports the stream's length and pending count, read at
// scrape time (-1 while Redis does not answer).
func registerQueueDepth(m *metrics.Metrics, d *redis.QueueDepth) {
	m.GaugeFunc("sms_queue_length", "Entries in the SMS stream: waiting, being sent or not yet acknowledged.", d.Length)
	m.GaugeFunc("sms_queue_pending", "SMS stream entries taken by a worker and not yet acknowledged.", d.Pending)
}

// queueKeys names the queue's keys after VERIFY_SMS_STREAM; the rest are the
// defaults derived from it.
func queueKeys(queue config.QueueConfig) redis.StreamKeys {
	return redis.StreamKeys{Stream: queue.Stream}.WithDefaults()
}
