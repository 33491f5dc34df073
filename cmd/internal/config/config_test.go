package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestLoad_EmptyEnvironmentIsTheEmbeddedDefault(t *testing.T) {
	cfg, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != ":8000" || cfg.Store.Kind != StoreMemory || cfg.SMS.Provider != SMSLog || cfg.Locale.DefaultRegion != "CN" ||
		cfg.Redis.URL != "redis://127.0.0.1:6379/2" || cfg.Process.LogLevel != slog.LevelInfo || cfg.Process.ShutdownTimeout != 10*time.Second {
		t.Errorf("defaults: %+v", cfg)
	}
	if len(cfg.CodeSecret) != 32 {
		t.Errorf("memory store got a %d-byte generated secret, want 32", len(cfg.CodeSecret))
	}
	other, _ := Load(env(nil))
	if string(other.CodeSecret) == string(cfg.CodeSecret) {
		t.Error("two processes generated the same secret")
	}
	if cfg.UsesRedis() {
		t.Error("the embedded default uses Redis")
	}
}

func TestLoad_RedisNeedsALongSecret(t *testing.T) {
	_, err := Load(env(map[string]string{"VERIFY_STORE": "redis"}))
	if err == nil || !strings.Contains(err.Error(), "VERIFY_CODE_SECRET: required") {
		t.Fatalf("err = %v", err)
	}
	cfg, err := Load(env(map[string]string{"VERIFY_STORE": "Redis", "VERIFY_CODE_SECRET": strings.Repeat("k", 32)}))
	if err != nil || cfg.Store.Kind != StoreRedis || !cfg.UsesRedis() {
		t.Fatalf("cfg %+v err %v", cfg, err)
	}
}

func TestLoad_ReportsEveryBadValueOnItsOwnLine(t *testing.T) {
	_, err := Load(env(map[string]string{
		"VERIFY_ADDR":           "8000",
		"VERIFY_STORE":          "postgres",
		"VERIFY_SMS_PROVIDER":   "pigeon",
		"VERIFY_DEFAULT_REGION": "XX",
		"VERIFY_CODE_SECRET":    "short",
		"VERIFY_LOG_LEVEL":      "loud",
		"VERIFY_SMS_WORKERS":    "0",
	}))
	if err == nil {
		t.Fatal("bad values accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, name := range []string{"VERIFY_ADDR", "VERIFY_STORE", "VERIFY_SMS_PROVIDER", "VERIFY_DEFAULT_REGION",
		"VERIFY_CODE_SECRET", "VERIFY_LOG_LEVEL", "VERIFY_SMS_WORKERS"} {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, name) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d lines start with %s:\n%s", n, name, err)
		}
	}
}

func TestLoad_TwilioNamesTheMissingVariables(t *testing.T) {
	_, err := Load(env(map[string]string{"VERIFY_SMS_PROVIDER": "twilio"}))
	for _, name := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"} {
		if err == nil || !strings.Contains(err.Error(), name+":") {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	cfg, err := Load(env(map[string]string{
		"VERIFY_SMS_PROVIDER": "twilio",
		"TWILIO_ACCOUNT_SID":  "AC" + strings.Repeat("0", 32),
		"TWILIO_AUTH_TOKEN":   "secrettoken",
		"TWILIO_FROM_NUMBER":  "+15005550006",
		"TWILIO_API_BASE_URL": "http://127.0.0.1:9999",
	}))
	if err != nil || cfg.SMS.Twilio.APIBaseURL != "http://127.0.0.1:9999" {
		t.Fatalf("cfg %+v err %v", cfg.SMS.Twilio.APIBaseURL, err)
	}
}

func TestLoad_ErrorsNeverEchoSecrets(t *testing.T) {
	_, err := Load(env(map[string]string{
		"VERIFY_STORE":       "redis",
		"VERIFY_REDIS_URL":   "redis://user:hunter2@[::1:6379",
		"VERIFY_CODE_SECRET": "tooshortsecret",
	}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, secret := range []string{"hunter2", "tooshortsecret"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error echoes %q: %v", secret, err)
		}
	}
}

func TestLoad_LimitsDefaultToTheRegionAndParseQuotas(t *testing.T) {
	cfg, err := Load(env(map[string]string{"VERIFY_DEFAULT_REGION": "us"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Limits.SMSRegions) != 1 || cfg.Limits.SMSRegions[0] != "US" || !cfg.Limits.MobileOnly {
		t.Errorf("limits %+v, want SMS to US mobiles only", cfg.Limits)
	}
	cfg, err = Load(env(map[string]string{
		"VERIFY_LIMIT_PHONE_SMS":     "3/30m, 6/12h",
		"VERIFY_LIMIT_GLOBAL_SMS":    "off",
		"VERIFY_SMS_ALLOWED_REGIONS": "cn,hk",
		"VERIFY_SMS_MOBILE_ONLY":     "false",
		"VERIFY_TRUSTED_PROXIES":     "10.0.0.0/8, 192.168.1.1, ::1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.Limits
	if len(l.PhoneSMS) != 2 || l.PhoneSMS[0].Max != 3 || l.PhoneSMS[1].Window != 12*time.Hour || l.GlobalSMS != nil ||
		strings.Join(l.SMSRegions, ",") != "CN,HK" || l.MobileOnly {
		t.Errorf("limits %+v", l)
	}
	if len(cfg.HTTP.TrustedProxies) != 3 || cfg.HTTP.TrustedProxies[1].String() != "192.168.1.1/32" {
		t.Errorf("trusted proxies %v", cfg.HTTP.TrustedProxies)
	}
}

func TestLoad_BadLimitsNameTheirVariable(t *testing.T) {
	_, err := Load(env(map[string]string{
		"VERIFY_LIMIT_IP_SMS":        "ten per hour",
		"VERIFY_LIMIT_IP_VERIFY":     "5/0s",
		"VERIFY_LIMIT_PHONE_SMS":     "5/720h",
		"VERIFY_SMS_ALLOWED_REGIONS": "CN,Narnia",
		"VERIFY_SMS_MOBILE_ONLY":     "maybe",
		"VERIFY_TRUSTED_PROXIES":     "10.0.0.0/33",
	}))
	for _, name := range []string{"VERIFY_LIMIT_IP_SMS=", "VERIFY_LIMIT_IP_VERIFY=", "VERIFY_LIMIT_PHONE_SMS=",
		"VERIFY_SMS_ALLOWED_REGIONS=", "VERIFY_SMS_MOBILE_ONLY=", "VERIFY_TRUSTED_PROXIES="} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}
