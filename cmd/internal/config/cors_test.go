package config

import (
	"slices"
	"strings"
	"testing"
)

func TestLoad_CORSOriginsAreNoneByDefault(t *testing.T) {
	cfg, err := Load(env(nil))
	if err != nil || cfg.HTTP.CORSOrigins != nil {
		t.Fatalf("origins %v, err %v", cfg.HTTP.CORSOrigins, err)
	}
}

func TestLoad_CORSOriginsAreExactOriginsNormalised(t *testing.T) {
	cfg, err := Load(env(map[string]string{"VERIFY_CORS_ORIGINS": " https://Shop.Example , http://localhost:3000"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"https://shop.example", "http://localhost:3000"}; !slices.Equal(cfg.HTTP.CORSOrigins, want) {
		t.Errorf("origins %v, want %v", cfg.HTTP.CORSOrigins, want)
	}
}

func TestLoad_CORSOriginsThatCannotMatchAreReported(t *testing.T) {
	for _, raw := range []string{"*", "https://shop.example/", "https://*.shop.example", "shop.example", "https://ok.example,,"} {
		_, err := Load(env(map[string]string{"VERIFY_CORS_ORIGINS": raw}))
		if err == nil || !strings.Contains(err.Error(), "VERIFY_CORS_ORIGINS") {
			t.Errorf("%q: err %v", raw, err)
		}
	}
}
