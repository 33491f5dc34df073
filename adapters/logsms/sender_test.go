package logsms_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/logsms"
	"github.com/lemonmall/verifyd/adapters/smstext"
	"github.com/lemonmall/verifyd/domain"
)

func renderer(t *testing.T) *smstext.Renderer {
	t.Helper()
	r, err := smstext.NewRenderer(smstext.Templates{}, domain.English)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func message(t *testing.T, e164, region string, lang domain.Language) domain.SMSMessage {
	t.Helper()
	to, err := domain.NewPhoneNumber(e164, region, domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	return domain.SMSMessage{ID: "m1", To: to, Code: "123456", Lang: lang, CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
}

func TestSender_LogsOneLineWithFullNumberAndTextInTheMessageLanguage(t *testing.T) {
	for lang, text := range map[domain.Language]string{
		domain.English: `text="Your verification code is 123456. It expires in 5 minutes."`,
		domain.Chinese: `text=您的验证码是123456，5分钟内有效。`,
	} {
		var buf bytes.Buffer
		sender := logsms.NewSender(slog.New(slog.NewTextHandler(&buf, nil)), renderer(t))

		receipt, err := sender.SendSMS(context.Background(), message(t, "+8613812345678", "CN", lang))
		if err != nil || receipt.Provider != "log" {
			t.Fatalf("SendSMS: %+v, %v", receipt, err)
		}

		out := strings.TrimRight(buf.String(), "\n")
		if lines := strings.Split(out, "\n"); len(lines) != 1 {
			t.Fatalf("want exactly one log line, got %d:\n%s", len(lines), out)
		}
		for _, want := range []string{"level=INFO", `msg="sms (log sender, development only)"`, "to=+8613812345678", text} {
			if !strings.Contains(out, want) {
				t.Errorf("log line %q does not contain %q", out, want)
			}
		}
	}
}

func TestSender_RefusesZeroNumberWithoutLogging(t *testing.T) {
	var buf bytes.Buffer
	sender := logsms.NewSender(slog.New(slog.NewTextHandler(&buf, nil)), renderer(t))

	_, err := sender.SendSMS(context.Background(), domain.SMSMessage{Code: "123456"})

	var se *domain.SendError
	if !errors.As(err, &se) || se.Retryable {
		t.Fatalf("want a permanent *domain.SendError, got %v", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("want no log output, got %q", buf.String())
	}
}

func TestNewSender_NilLoggerUsesDefault(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	if _, err := logsms.NewSender(nil, renderer(t)).SendSMS(context.Background(), message(t, "+15005550006", "US", "")); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if !strings.Contains(buf.String(), "123456") {
		t.Fatalf("default logger did not receive the line: %q", buf.String())
	}
}
