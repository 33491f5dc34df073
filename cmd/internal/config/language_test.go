package config

import (
	"strings"
	"testing"

	"github.com/lemonmall/verifyd/domain"
)

func TestLoad_LanguageDefaultsToEnglishAndTakesChinese(t *testing.T) {
	for v, want := range map[string]domain.Language{"": domain.English, "en": domain.English, "zh": domain.Chinese, "zh-Hans": domain.Chinese, "ZH-CN": domain.Chinese, "en-GB": domain.English, "zh-TW": domain.Chinese} {
		cfg, err := Load(env(map[string]string{"VERIFY_LANGUAGE": v}))
		if err != nil || cfg.Locale.Language != want {
			t.Errorf("VERIFY_LANGUAGE=%q: %q, %v; want %q", v, cfg.Locale.Language, err, want)
		}
	}
	_, err := Load(env(map[string]string{"VERIFY_LANGUAGE": "fr-FR"}))
	if err == nil || !strings.Contains(err.Error(), `VERIFY_LANGUAGE="fr-FR": want en or zh`) {
		t.Errorf("VERIFY_LANGUAGE=fr-FR: %v", err)
	}
}
