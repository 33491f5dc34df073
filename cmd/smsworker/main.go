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
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lemonmall/verifyd/adapters/metrics"
	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/cmd/internal/cli"
	"github.com/lemonmall/verifyd/cmd/internal/config"
	"github.com/lemonmall/verifyd/cmd/internal/wiring"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx); err != nil {
		if !errors.Is(err, errLogged) {
			fmt.Fprintln(os.Stderr, "smsworker:", err)
		}
		os.Exit(cli.ExitCode(err))
	}
}

// errLogged says the failure is already in the JSON log.
var errLogged = errors.New("logged")

func realMain(ctx context.Context) error {
	// The command line only asks for help, the version or a health check.
	command := cli.Command{
		Name: "smsworker",
		About: "smsworker sends the SMS that verifyd queues in Redis (VERIFY_SMS_QUEUE=redis)\n" +
			"and serves /metrics, /healthz and /readyz on VERIFY_WORKER_ADDR.",
		ProbeAddr: func(cfg config.Config) string { return cfg.Queue.WorkerAddr },
	}
	if done, err := command.Parse(ctx, os.Args[1:], os.Getenv, os.Stdout); done {
		return err
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if cfg.Queue.Kind != config.QueueRedis {
		// Checked before anything is dialled.
		return fmt.Errorf("VERIFY_SMS_QUEUE=%q: smsworker sends from the Redis queue only; set VERIFY_SMS_QUEUE=redis here and for verifyd", cfg.Queue.Kind)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.Process.LogLevel}))
	if err := run(ctx, cfg, logger); err != nil {
		logger.Error("smsworker failed", "err", err)
		return errLogged
	}
	return nil
}

// worker is what initWorker assembles.
type worker struct {
	Worker  *redis.Worker
	Metrics *metrics.Metrics
	Redis   *wiring.Redis
}

func run(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	w, cleanup, err := initWorker(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer cleanup()
	if cfg.SMS.Provider == config.SMSLog {
		logger.Warn("SMS codes are written to this log (VERIFY_SMS_PROVIDER=log): for development only")
	}

	ln, err := net.Listen("tcp", cfg.Queue.WorkerAddr)
	if err != nil {
		return fmt.Errorf("VERIFY_WORKER_ADDR=%q: %w", cfg.Queue.WorkerAddr, err)
	}
	srv := &http.Server{Handler: probes(w), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("smsworker started", "probes_addr", ln.Addr().String(), "stream", cfg.Queue.Stream)

	// Run returns once ctx is cancelled (SIGTERM) and the messages in flight
	// are sent or released, within VERIFY_SHUTDOWN_TIMEOUT.
	runErr := w.Worker.Run(ctx)

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("probe server did not stop cleanly", "err", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return errors.Join(runErr, fmt.Errorf("probe server: %w", err))
	}
	return runErr
}

// probes serves /metrics, /healthz (the process runs) and /readyz (Redis
// answers), for the same monitoring verifyd gets.
func probes(w *worker) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", w.Metrics.Handler())
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		fmt.Fprint(rw, `{"code":"0","errmsg":"OK"}`)
	})
	mux.HandleFunc("GET /readyz", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := w.Redis.Client.Do(ctx, w.Redis.Client.B().Ping().Build()).Error(); err != nil {
			rw.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(rw, `{"code":"5000","errmsg":"Redis unavailable"}`)
			return
		}
		fmt.Fprint(rw, `{"code":"0","errmsg":"OK"}`)
	})
	return mux
}
