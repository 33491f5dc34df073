package redis

// One message taken to an end: the attempt count, the send, and the retry
// with backoff, as domain.DeliveryPolicy decides.

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
		if sent {
			w.ack(ctx, e.ID)
			w.logEntry(slog.LevelInfo, e.ID, msg, attempt-1, outcomeDuplicate, nil)
			return
		}
		if final, send := w.opt.Policy.BeforeSend(attempt, w.clock.Now(), msg.ExpiresAt); !send {
			w.giveUpUnsent(ctx, e.ID, msg, attempt-1, final)
			return
		}

		receipt, err := w.sender.SendSMS(ctx, msg)
		if err != nil && ctx.Err() != nil {
			// Cancelled under the send: the provider may or may not have
			// taken it. Leave it to a worker that is not going away.
			w.release(ctx, e.ID, msg, attempt, err)
			return
		}
		provider := domain.SendProvider(receipt, err)
		step := w.opt.Policy.AfterSend(attempt, err)
		switch step.Outcome {
		case domain.DeliveryDelivered:
			w.markSent(ctx, e.ID, msg)
			w.logSend(slog.LevelInfo, e.ID, msg, attempt, step.Outcome, provider, nil)
			return
		case domain.DeliveryRetrying:
			w.logSend(slog.LevelWarn, e.ID, msg, attempt, step.Outcome, provider, err)
			sleep(soft, ctx, step.Wait)
		case domain.DeliveryFailed:
			w.deadLetter(ctx, e.ID, msg, attempt, "permanent failure: "+msg.Redact(err.Error()))
			w.logSend(slog.LevelError, e.ID, msg, attempt, step.Outcome, provider, err)
			return
		default: // domain.DeliveryGaveUp
			w.deadLetter(ctx, e.ID, msg, attempt, fmt.Sprintf("gave up after %d attempts: %s", attempt, msg.Redact(err.Error())))
			w.logSend(slog.LevelError, e.ID, msg, attempt, step.Outcome, provider, err)
			return
		}
	}
}

// giveUpUnsent dead-letters a message the delivery policy will not send
// again: expired, or its attempts spent (attempts sends made) by workers
// that died before they knew the outcome of the last.
func (w *Worker) giveUpUnsent(ctx context.Context, streamID string, msg domain.SMSMessage, attempts int, final domain.DeliveryOutcome) {
	if final == domain.DeliveryExpired {
		w.deadLetter(ctx, streamID, msg, attempts, "expired before delivery")
		w.logEntry(slog.LevelWarn, streamID, msg, attempts, final, nil)
		return
	}
	reason := fmt.Sprintf("gave up after %d attempts; the outcome of the last is unknown", attempts)
	w.deadLetter(ctx, streamID, msg, attempts, reason)
	w.logEntry(slog.LevelError, streamID, msg, attempts, final, nil)
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
