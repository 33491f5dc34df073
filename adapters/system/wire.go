package system

import (
	"github.com/google/wire"

	"github.com/lemonmall/verifyd/domain"
)

// ProviderSet provides the real clock and randomness as domain ports.
var ProviderSet = wire.NewSet(
	wire.Value(Clock{}), wire.Bind(new(domain.Clock), new(Clock)),
	wire.Value(Random{}), wire.Bind(new(domain.Random), new(Random)),
)
