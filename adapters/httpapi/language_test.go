package httpapi_test

import (
	"testing"

	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/domain"
)

// What browsers and apps really send: regional and script variants, weights,
// and tags nobody knows beside good ones.
func TestMessages_MatchReadsAcceptLanguageAsBrowsersSendIt(t *testing.T) {
	for _, fallback := range []domain.Language{domain.English, domain.Chinese} {
		m, err := httpapi.NewMessages(fallback)
		if err != nil {
			t.Fatal(err)
		}
		for header, want := range map[string]domain.Language{
			"":                        fallback,
			"zh-CN":                   domain.Chinese,
			"zh-TW":                   domain.Chinese,
			"zh-Hant":                 domain.Chinese,
			"zh-HK,zh;q=0.9":          domain.Chinese,
			"en-GB":                   domain.English,
			"en-US,en;q=0.9,zh;q=0.8": domain.English,
			"zh-CN,xx;q=0.5":          domain.Chinese,
			"xx,zh;q=0.5":             domain.Chinese,
			"de-DE,zh;q=0.3,en;q=0.2": domain.Chinese,
			"en;q=0.1,zh;q=0.9":       domain.Chinese,
			"zh;q=0,en;q=0.5":         domain.English,
			"fr-FR":                   fallback,
			"*":                       fallback,
			";;;,,,\x00garbage":       fallback,
			"zh_CN":                   domain.Chinese,
			"EN-us":                   domain.English,
			"zh-CN;q=not-a-number,en": domain.English,
		} {
			if got := m.Match(header); got != want {
				t.Errorf("default %s, Accept-Language %q: got %q, want %q", fallback, header, got, want)
			}
		}
	}
}
