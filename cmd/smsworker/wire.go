//go:build wireinject

package main

import (
	"context"
	"log/slog"

	"github.com/google/wire"

	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/cmd/internal/config"
	"github.com/lemonmall/verifyd/cmd/internal/wiring"
)

// initWorker assembles the worker. The cleanup func closes the Redis
// connection; call it after Run has returned.
func initWorker(ctx context.Context, cfg config.Config, logger *slog.Logger) (*redis.Worker, func(), error) {
	wire.Build(wiring.WorkerSet)
	return nil, nil, nil
}
