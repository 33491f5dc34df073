package config

import (
	"strings"

	"github.com/lemonmall/verifyd/adapters/httpapi"
)

// corsOrigins reads VERIFY_CORS_ORIGINS: exact web origins, comma-separated,
// whose pages may call /api/v1/ from another site. Empty, the default,
// sends no CORS header at all and refuses every cross-site use.
func (p *parser) corsOrigins() []string {
	const name = "VERIFY_CORS_ORIGINS"
	raw := p.str(name, "")
	if raw == "" {
		return nil
	}
	var out []string
	for _, part := range strings.Split(raw, ",") {
		origin, err := httpapi.ParseOrigin(part)
		if err != nil {
			p.fail("%s=%q: %v; want comma-separated origins such as https://shop.example,http://localhost:3000", name, raw, err)
			continue
		}
		out = append(out, origin)
	}
	return out
}
