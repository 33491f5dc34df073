package config

import (
	"golang.org/x/text/language"

	"github.com/lemonmall/verifyd/domain"
)

// language reads the language verifyd answers in when a request's
// Accept-Language names none it speaks. Any tag of English or Chinese is
// taken (en, en-US, zh, zh-CN, zh-Hans), as requests' tags are.
func (p *parser) language(name string) domain.Language {
	raw := p.str(name, string(domain.English))
	if tag, err := language.Parse(raw); err == nil {
		switch base, _ := tag.Base(); base.String() {
		case "en":
			return domain.English
		case "zh":
			return domain.Chinese
		}
	}
	p.fail("%s=%q: want en or zh", name, raw)
	return domain.English
}
