package metrics

import (
	"github.com/google/wire"

	"github.com/lemonmall/verifyd/domain"
)

// ProviderSet provides the process's registry, which hears the use cases'
// events as domain.Events. Other adapters that report to it (the HTTP
// adapter, the outboxes) take *Metrics or bind their own port to it in
// cmd/internal/wiring: this package knows none of them.
var ProviderSet = wire.NewSet(New, wire.Bind(new(domain.Events), new(*Metrics)))
