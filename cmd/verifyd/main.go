// Command verifyd serves image captchas and SMS one-time codes over HTTP.
//
// Configuration comes from the environment; see README.md for the variables.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/lemonmall/verifyd/cmd/internal/cli"
	"github.com/lemonmall/verifyd/cmd/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx); err != nil {
		if !errors.Is(err, errLogged) {
			fmt.Fprintln(os.Stderr, "verifyd:", err)
		}
		os.Exit(cli.ExitCode(err))
	}
}

// errLogged says the failure is already in the JSON log.
var errLogged = errors.New("logged")

func realMain(ctx context.Context) error {
	// The command line only asks for help, the version or a health check.
	command := cli.Command{
		Name:      "verifyd",
		About:     "verifyd serves image captchas and SMS one-time codes over HTTP on VERIFY_ADDR.",
		ProbeAddr: func(cfg config.Config) string { return cfg.HTTP.Addr },
	}
	if done, err := command.Parse(ctx, os.Args[1:], os.Getenv, os.Stdout); done {
		return err
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	tuneGC(os.Getenv)
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.Process.LogLevel}))
	if err := run(ctx, cfg, logger); err != nil {
		logger.Error("verifyd failed", "err", err)
		return errLogged
	}
	return nil
}

func run(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	server, cleanup, err := initServer(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer cleanup()

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("VERIFY_ADDR=%q: %w", cfg.HTTP.Addr, err)
	}
	logger.Info("verifyd listening", "addr", ln.Addr().String(), "store", cfg.Store.Kind, "sms_provider", cfg.SMS.Provider)
	if cfg.SMS.Provider == config.SMSLog {
		logger.Warn("SMS codes are written to this log (VERIFY_SMS_PROVIDER=log): for development only")
	}
	if err := server.Serve(ctx, ln); err != nil {
		return err
	}
	logger.Info("verifyd stopped")
	return nil
}
