package redis

// What the Worker logs about each message, and the pacing of its reads while
// Redis fails.

import (
	"context"
	"log/slog"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// Outcomes only the stream worker has, logged beside the domain's
// delivery outcomes (delivered, retrying, failed, gave_up, expired); the
// observer is told of the domain's only.
const (
	outcomeMalformed domain.DeliveryOutcome = "malformed" // dead-lettered unsent
	outcomeDuplicate domain.DeliveryOutcome = "duplicate" // already delivered: acknowledged unsent
	outcomeReleased  domain.DeliveryOutcome = "released"  // shutdown or Redis trouble: left to any worker
	outcomeLost      domain.DeliveryOutcome = "lost"      // another worker took it over
	outcomeReclaimed domain.DeliveryOutcome = "reclaimed" // taken over from a dead worker
	outcomeTrimmed   domain.DeliveryOutcome = "trimmed"   // its entry was trimmed away
)

// logEntry writes the one line describing an outcome; attempt is the number
// of sends made so far. It names the phone only masked and never the code.
func (w *Worker) logEntry(level slog.Level, streamID string, msg domain.SMSMessage, attempt int, outcome domain.DeliveryOutcome, err error) {
	w.logSend(level, streamID, msg, attempt, outcome, "", err)
}

// logSend is logEntry naming the provider that answered the send, if any.
func (w *Worker) logSend(level slog.Level, streamID string, msg domain.SMSMessage, attempt int, outcome domain.DeliveryOutcome, provider string, err error) {
	if w.opt.Observer != nil {
		switch outcome {
		case domain.DeliveryDelivered, domain.DeliveryRetrying, domain.DeliveryFailed, domain.DeliveryGaveUp, domain.DeliveryExpired:
			w.opt.Observer.ObserveDelivery(outcome, provider)
		}
	}
	attrs := []slog.Attr{
		slog.String("message_id", msg.ID),
		slog.String("stream_id", streamID),
		slog.String("to", msg.To.String()),
		slog.Int("attempt", attempt),
		slog.String("outcome", string(outcome)),
	}
	if provider != "" {
		attrs = append(attrs, slog.String("provider", provider))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", msg.Redact(err.Error())))
	}
	w.logger.LogAttrs(context.Background(), level, "sms worker", attrs...)
}

// pacer spaces out retries of a failing loop: 100 ms doubling to 5 s, and
// logs the first failure of a run and then one in ten.
type pacer struct {
	delay    time.Duration
	failures int
}

func newPacer() *pacer { return &pacer{delay: 100 * time.Millisecond} }

func (p *pacer) reset() { p.delay, p.failures = 100*time.Millisecond, 0 }

func (p *pacer) wait(ctx context.Context, logger *slog.Logger, err error) {
	if p.failures%10 == 0 {
		logger.Warn("sms worker: redis unavailable, retrying", "error", err.Error(), "failures", p.failures+1)
	}
	p.failures++
	t := time.NewTimer(p.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	p.delay = min(p.delay*2, 5*time.Second)
}
