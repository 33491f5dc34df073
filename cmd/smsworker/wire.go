//go:build wireinject

package main

import (
	"context"
	"log/slog"

	"github.com/google/wire"

	"github.com/lemonmall/verifyd/cmd/internal/config"
	"github.com/lemonmall/verifyd/cmd/internal/wiring"
)

// initWorker assembles the worker with its metrics and Redis connection. The
// cleanup func closes the connection; call it after Run has returned.
func initWorker(ctx context.Context, cfg config.Config, logger *slog.Logger) (*worker, func(), error) {
	wire.Build(wiring.WorkerSet, wire.Struct(new(worker), "*"))
	return nil, nil, nil
}
