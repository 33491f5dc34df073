package config

import (
	"strings"

	"github.com/lemonmall/verifyd/domain"
)

// language reads the language verifyd answers in when a request's
// Accept-Language names none it speaks: en, or zh (Simplified Chinese, also
// written zh-Hans or zh-CN).
func (p *parser) language(name string) domain.Language {
	switch v := strings.ToLower(p.str(name, string(domain.English))); v {
	case "en":
		return domain.English
	case "zh", "zh-hans", "zh-cn":
		return domain.Chinese
	default:
		p.fail("%s=%q: want en or zh", name, v)
		return domain.English
	}
}
