package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/lemonmall/verifyd/domain"
)

func TestLoad_SMSProviderListInFailoverOrder(t *testing.T) {
	cfg, err := Load(env(map[string]string{
		"VERIFY_SMS_PROVIDER":       " Webhook , twilio",
		"VERIFY_SMS_WEBHOOK_URL":    "http://127.0.0.1:9999/sms",
		"VERIFY_SMS_WEBHOOK_SECRET": "0123456789abcdef",
		"TWILIO_ACCOUNT_SID":        "AC0123456789abcdef0123456789abcdef",
		"TWILIO_AUTH_TOKEN":         "0123456789abcdef0123456789abcdef",
		"TWILIO_FROM_NUMBER":        "+15005550006",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.SMS.Providers, []string{"webhook", "twilio"}) || cfg.SMS.Provider != "webhook,twilio" {
		t.Errorf("providers %q (%q)", cfg.SMS.Providers, cfg.SMS.Provider)
	}
	if cfg.SMS.Aliyun.Endpoint != "https://dysmsapi.aliyuncs.com" || cfg.SMS.Tencent.Region != "ap-guangzhou" {
		t.Errorf("provider defaults: %+v %+v", cfg.SMS.Aliyun, cfg.SMS.Tencent)
	}
}

func TestLoad_EachMissingProviderVariableOnItsOwnLine(t *testing.T) {
	_, err := Load(env(map[string]string{
		"VERIFY_SMS_PROVIDER":     "aliyun,tencent,webhook,twilio",
		"ALIYUN_SMS_SIGN_NAME":    "verifyd",
		"TENCENTCLOUD_SECRET_KEY": "tencent-secret-key",
	}))
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, want := range []string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID: required for aliyun in VERIFY_SMS_PROVIDER=aliyun,tencent,webhook,twilio",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET: required for aliyun in VERIFY_SMS_PROVIDER=aliyun,tencent,webhook,twilio",
		"ALIYUN_SMS_TEMPLATE_CODE: required for aliyun in VERIFY_SMS_PROVIDER=aliyun,tencent,webhook,twilio",
		"TENCENTCLOUD_SECRET_ID: required for tencent in VERIFY_SMS_PROVIDER=aliyun,tencent,webhook,twilio",
		"TENCENT_SMS_SDK_APP_ID: required for tencent in VERIFY_SMS_PROVIDER=aliyun,tencent,webhook,twilio",
		"TENCENT_SMS_SIGN_NAME: required for tencent in VERIFY_SMS_PROVIDER=aliyun,tencent,webhook,twilio",
		"TENCENT_SMS_TEMPLATE_ID: required for tencent in VERIFY_SMS_PROVIDER=aliyun,tencent,webhook,twilio",
		"VERIFY_SMS_WEBHOOK_URL: required for webhook in VERIFY_SMS_PROVIDER=aliyun,tencent,webhook,twilio",
		"VERIFY_SMS_WEBHOOK_SECRET: required for webhook in VERIFY_SMS_PROVIDER=aliyun,tencent,webhook,twilio",
		"TWILIO_ACCOUNT_SID: required for twilio in VERIFY_SMS_PROVIDER=aliyun,tencent,webhook,twilio",
		"TWILIO_AUTH_TOKEN: required for twilio in VERIFY_SMS_PROVIDER=aliyun,tencent,webhook,twilio",
		"TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID: one is required for twilio in VERIFY_SMS_PROVIDER=aliyun,tencent,webhook,twilio",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("no line %q in:\n%s", want, err)
		}
	}
	if len(lines) != 12 {
		t.Errorf("%d lines, want 12:\n%s", len(lines), err)
	}
	if strings.Contains(err.Error(), "tencent-secret-key") {
		t.Error("a secret is echoed")
	}
	// A single provider is named as configured.
	_, err = Load(env(map[string]string{"VERIFY_SMS_PROVIDER": "tencent"}))
	if err == nil || !slices.Contains(strings.Split(err.Error(), "\n"), "TENCENTCLOUD_SECRET_ID: required when VERIFY_SMS_PROVIDER=tencent") {
		t.Errorf("single provider: %v", err)
	}
}

func TestLoad_BadProviderLists(t *testing.T) {
	for value, want := range map[string]string{
		"pigeon":          `"pigeon" is not a provider`,
		"aliyun,,tencent": `"" is not a provider`,
		"twilio,twilio":   "twilio is listed twice",
		"aliyun,log":      "log writes codes to the log and cannot be part of a failover list",
	} {
		_, err := Load(env(map[string]string{"VERIFY_SMS_PROVIDER": value}))
		if err == nil || !strings.Contains(err.Error(), "VERIFY_SMS_PROVIDER=") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", value, err, want)
		}
	}
}

func TestLoad_BadProviderSettingsNameTheirVariables(t *testing.T) {
	_, err := Load(env(map[string]string{
		"VERIFY_SMS_PROVIDER":             "aliyun,webhook",
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     "id",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "aliyun-secret",
		"ALIYUN_SMS_SIGN_NAME":            "verifyd",
		"ALIYUN_SMS_TEMPLATE_CODE":        "SMS_1",
		"ALIYUN_SMS_ENDPOINT":             "dysmsapi.aliyuncs.com",
		"VERIFY_SMS_WEBHOOK_URL":          "https://sms.example.test/hook",
		"VERIFY_SMS_WEBHOOK_SECRET":       "short",
	}))
	if err == nil || !strings.Contains(err.Error(), "ALIYUN_SMS_ENDPOINT: aliyun: endpoint") ||
		!strings.Contains(err.Error(), "VERIFY_SMS_WEBHOOK_*: webhook: secret must be at least 16 bytes") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "aliyun-secret") || strings.Contains(err.Error(), "short") {
		t.Errorf("a secret is echoed: %v", err)
	}
}

func TestLoad_LanguageAndSMSTemplates(t *testing.T) {
	cfg, err := Load(env(map[string]string{"VERIFY_LANGUAGE": "ZH", "VERIFY_SMS_TEMPLATE_EN": "Code {code}, {minutes} min"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Locale.Language != domain.Chinese || cfg.SMS.Templates.English != "Code {code}, {minutes} min" || cfg.SMS.Templates.Chinese == "" {
		t.Errorf("language %q templates %+v", cfg.Locale.Language, cfg.SMS.Templates)
	}
	if cfg, _ := Load(env(nil)); cfg.Locale.Language != domain.English {
		t.Errorf("default language %q, want en", cfg.Locale.Language)
	}
	_, err = Load(env(map[string]string{
		"VERIFY_LANGUAGE":        "fr",
		"VERIFY_SMS_TEMPLATE_EN": "Your code",
		"VERIFY_SMS_TEMPLATE_ZH": "验证码{code}",
	}))
	lines := strings.Split(err.Error(), "\n")
	for _, want := range []string{
		`VERIFY_LANGUAGE="fr": want en or zh`,
		`VERIFY_SMS_TEMPLATE_EN="Your code": must contain {code} and {minutes}`,
		`VERIFY_SMS_TEMPLATE_ZH="验证码{code}": must contain {minutes}`,
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("no line %q in:\n%s", want, err)
		}
	}
}
