package smstext_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/smstext"
	"github.com/lemonmall/verifyd/domain"
)

func message(lang domain.Language, lifetime time.Duration) domain.SMSMessage {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return domain.SMSMessage{ID: "m1", Code: "048213", Lang: lang, CreatedAt: now, ExpiresAt: now.Add(lifetime)}
}

func TestRenderer_WritesTheCodeAndLifetimeInTheMessageLanguage(t *testing.T) {
	r, err := smstext.NewRenderer(smstext.Templates{}, domain.English)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang domain.Language
		want string
	}{
		{domain.English, "Your verification code is 048213. It expires in 5 minutes."},
		{domain.Chinese, "您的验证码是048213，5分钟内有效。"},
		{"", "Your verification code is 048213. It expires in 5 minutes."},
		{"fr", "Your verification code is 048213. It expires in 5 minutes."},
	}
	for _, tt := range tests {
		if got := r.Render(message(tt.lang, 5*time.Minute)); got != tt.want {
			t.Errorf("lang %q: %q, want %q", tt.lang, got, tt.want)
		}
	}
}

func TestRenderer_ConfiguredTemplatesAndDefaultLanguage(t *testing.T) {
	r, err := smstext.NewRenderer(smstext.Templates{English: "Code {code} ({minutes} min)"}, domain.Chinese)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Render(message("", 10*time.Minute)); got != "您的验证码是048213，10分钟内有效。" {
		t.Errorf("no language: %q, want the Chinese default", got)
	}
	if got := r.Render(message(domain.English, 90*time.Second)); got != "Code 048213 (2 min)" {
		t.Errorf("english: %q", got)
	}
	if got := r.Render(message(domain.English, 10*time.Second)); got != "Code 048213 (1 min)" {
		t.Errorf("a lifetime under a minute reads as 1 minute, got %q", got)
	}
}

func TestNewRenderer_RefusesTemplatesWithoutCodeOrLifetime(t *testing.T) {
	tests := []struct {
		name string
		t    smstext.Templates
		want []string
	}{
		{"no code", smstext.Templates{English: "Expires in {minutes} minutes"}, []string{"en template: must contain {code}"}},
		{"no minutes", smstext.Templates{Chinese: "验证码{code}"}, []string{"zh template: must contain {minutes}"}},
		{"neither, both languages", smstext.Templates{English: "hi", Chinese: "你好"},
			[]string{"en template: must contain {code} and {minutes}", "zh template: must contain {code} and {minutes}"}},
		{"two lines", smstext.Templates{English: "{code}\n{minutes}"}, []string{"en template: must be one line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := smstext.NewRenderer(tt.t, domain.English)
			if err == nil {
				t.Fatal("accepted")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("error %q, want lines %q", err, tt.want)
			}
			for i := range lines {
				if lines[i] != tt.want[i] {
					t.Errorf("line %d = %q, want %q", i, lines[i], tt.want[i])
				}
			}
		})
	}
	if _, err := smstext.NewRenderer(smstext.Templates{}, "fr"); err == nil {
		t.Error("accepted default language fr")
	}
}
