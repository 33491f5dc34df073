package redis

// One message taken to an end: the attempt count, the send, and the retry
// with backoff.

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/domain"
)

// handle takes one entry to an end: delivered, dead-lettered, released or
// lost. soft ending means shutdown: no new attempt starts. hard ending
// cancels the send in flight.
func (w *Worker) handle(soft, hard context.Context, e rueidis.XRangeEntry) {
	ctx, cancel := context.WithCancelCause(hard)
	w.setCancel(e.ID, cancel)
	defer func() {
		w.untrack(e.ID)
		cancel(nil)
	}()

	if e.FieldValues == nil {
		w.ack(ctx, e.ID)
		w.logEntry(slog.LevelWarn, e.ID, domain.SMSMessage{}, 0, outcomeTrimmed, nil)
		return
	}
	msg, err := decodeMessage(e.FieldValues, w.opt.Sealer)
	if err != nil {
		w.deadLetter(ctx, e.ID, msg, 0, "malformed entry: "+err.Error())
		w.logEntry(slog.LevelError, e.ID, msg, 0, outcomeMalformed, err)
		return
	}

	attempt := 0 // sends made so far, by any worker
	for {
		if soft.Err() != nil || ctx.Err() != nil {
			w.release(ctx, e.ID, msg, attempt, nil)
			return
		}
		sent, n, err := w.beginAttempt(ctx, msg)
		if err != nil {
			w.release(ctx, e.ID, msg, attempt, err)
			return
		}
		attempt = n
		switch {
		case sent:
			w.ack(ctx, e.ID)
			w.logEntry(slog.LevelInfo, e.ID, msg, attempt-1, outcomeDuplicate, nil)
			return
		case !w.clock.Now().Before(msg.ExpiresAt):
			w.deadLetter(ctx, e.ID, msg, attempt-1, "expired before delivery")
			w.logEntry(slog.LevelWarn, e.ID, msg, attempt-1, domain.DeliveryExpired, nil)
			return
		case attempt > w.opt.MaxAttempts:
			// The worker making the last attempt died before it knew.
			reason := fmt.Sprintf("gave up after %d attempts; the outcome of the last is unknown", attempt-1)
			w.deadLetter(ctx, e.ID, msg, attempt-1, reason)
			w.logEntry(slog.LevelError, e.ID, msg, attempt-1, domain.DeliveryGaveUp, nil)
			return
		}

		receipt, err := w.sender.SendSMS(ctx, msg)
		provider := domain.SendProvider(receipt, err)
		switch {
		case err == nil:
			w.markSent(ctx, e.ID, msg)
			w.logSend(slog.LevelInfo, e.ID, msg, attempt, domain.DeliveryDelivered, provider, nil)
			return
		case ctx.Err() != nil:
			// Cancelled under the send: the provider may or may not have
			// taken it. Leave it to a worker that is not going away.
			w.release(ctx, e.ID, msg, attempt, err)
			return
		case !domain.IsRetryableSend(err):
			w.deadLetter(ctx, e.ID, msg, attempt, "permanent failure: "+msg.Redact(err.Error()))
			w.logSend(slog.LevelError, e.ID, msg, attempt, domain.DeliveryFailed, provider, err)
			return
		case attempt >= w.opt.MaxAttempts:
			w.deadLetter(ctx, e.ID, msg, attempt, fmt.Sprintf("gave up after %d attempts: %s", attempt, msg.Redact(err.Error())))
			w.logSend(slog.LevelError, e.ID, msg, attempt, domain.DeliveryGaveUp, provider, err)
			return
		}
		w.logSend(slog.LevelWarn, e.ID, msg, attempt, domain.DeliveryRetrying, provider, err)
		sleep(soft, ctx, w.backoff(attempt))
	}
}

// beginAttempt reports whether msg was already delivered and, if not,
// counts one more attempt and returns its number (1-based, across workers).
func (w *Worker) beginAttempt(ctx context.Context, msg domain.SMSMessage) (sent bool, attempt int, err error) {
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	defer cancel()
	attempts := w.opt.Keys.attempts(msg.ID)
	res := w.client.DoMulti(octx,
		w.client.B().Exists().Key(w.opt.Keys.sent(msg.ID)).Build(),
		w.client.B().Incr().Key(attempts).Build(),
		w.client.B().Pexpire().Key(attempts).Milliseconds(millis(w.recordTTL(msg))).Build(),
	)
	exists, err := res[0].AsInt64()
	if err != nil {
		return false, 0, storeError("check sent", err)
	}
	n, err := res[1].AsInt64()
	if err != nil {
		return false, 0, storeError("count attempt", err)
	}
	if err := res[2].Error(); err != nil {
		return false, 0, storeError("expire attempts", err)
	}
	return exists == 1, int(n), nil
}

// recordTTL is how long the sent and attempts records of msg are kept.
func (w *Worker) recordTTL(msg domain.SMSMessage) time.Duration {
	return max(msg.ExpiresAt.Sub(w.clock.Now()), 0) + recordMargin
}

// backoff is the wait after failed attempt n (1-based).
func (w *Worker) backoff(n int) time.Duration {
	return domain.RetryBackoff(n, w.opt.Backoff, w.opt.MaxBackoff)
}

// sleep waits for d or until soft or hard ends.
func sleep(soft, hard context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-soft.Done():
	case <-hard.Done():
	}
}
