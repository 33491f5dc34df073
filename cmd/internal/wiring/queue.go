package wiring

import (
	"context"
	"log/slog"

	"github.com/google/wire"

	"github.com/lemonmall/verifyd/adapters/memory"
	"github.com/lemonmall/verifyd/cmd/internal/config"
	"github.com/lemonmall/verifyd/domain"
)

var queueSet = wire.NewSet(ProvideOutbox)

// ProvideOutbox starts the in-process delivery pool. Its cleanup stops taking
// messages and waits, up to the shutdown timeout, for queued ones to be sent.
func ProvideOutbox(cfg config.Config, sender domain.SMSSender, clock domain.Clock, logger *slog.Logger) (domain.SMSOutbox, func()) {
	outbox := memory.NewOutbox(sender, clock, logger, memory.OutboxConfig{
		Workers:   cfg.SMSWorkers,
		QueueSize: cfg.SMSQueueSize,
	})
	return outbox, func() {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := outbox.Close(ctx); err != nil {
			logger.Error("sms outbox did not drain before shutdown", "err", err)
		}
	}
}
