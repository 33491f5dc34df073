package httpapi

import "github.com/google/wire"

// ProviderSet provides the server from its Config and the use cases, ports
// and observers in Deps.
var ProviderSet = wire.NewSet(NewServer, wire.Struct(new(Deps), "*"))
