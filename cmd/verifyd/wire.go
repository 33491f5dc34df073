//go:build wireinject

package main

import (
	"context"
	"log/slog"

	"github.com/google/wire"

	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/cmd/internal/config"
	"github.com/lemonmall/verifyd/cmd/internal/wiring"
)

// initServer assembles the HTTP server. The cleanup func closes, in reverse
// order of opening, the outbox (draining queued messages) and the store.
func initServer(ctx context.Context, cfg config.Config, logger *slog.Logger) (*httpapi.Server, func(), error) {
	wire.Build(wiring.ServerSet)
	return nil, nil, nil
}
