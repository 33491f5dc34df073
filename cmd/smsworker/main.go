// Command smsworker sends the SMS that verifyd instances queue in Redis
// (VERIFY_SMS_QUEUE=redis). Run as many as you like, on any machines: they
// share the queue through a consumer group, take over the messages of a
// worker that died, and retry provider failures with backoff.
//
// It reads the same environment as verifyd; see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/lemonmall/verifyd/cmd/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx); err != nil {
		if !errors.Is(err, errLogged) {
			fmt.Fprintln(os.Stderr, "smsworker:", err)
		}
		os.Exit(1)
	}
}

// errLogged says the failure is already in the JSON log.
var errLogged = errors.New("logged")

func realMain(ctx context.Context) error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if cfg.Queue.Kind != config.QueueRedis {
		// Checked before anything is dialled.
		return fmt.Errorf("VERIFY_SMS_QUEUE=%q: smsworker sends from the Redis queue only; set VERIFY_SMS_QUEUE=redis here and for verifyd", cfg.Queue.Kind)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err := run(ctx, cfg, logger); err != nil {
		logger.Error("smsworker failed", "err", err)
		return errLogged
	}
	return nil
}

func run(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	worker, cleanup, err := initWorker(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer cleanup()
	if cfg.SMSProvider == config.SMSLog {
		logger.Warn("SMS codes are written to this log (VERIFY_SMS_PROVIDER=log): for development only")
	}
	// Run returns once ctx is cancelled (SIGTERM) and the messages in flight
	// are sent or released, within VERIFY_SHUTDOWN_TIMEOUT.
	return worker.Run(ctx)
}
