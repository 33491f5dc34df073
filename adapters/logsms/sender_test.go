package logsms_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/lemonmall/verifyd/adapters/logsms"
	"github.com/lemonmall/verifyd/domain"
)

func TestSender_LogsOneLineWithFullNumberAndText(t *testing.T) {
	var buf bytes.Buffer
	sender := logsms.NewSender(slog.New(slog.NewTextHandler(&buf, nil)))
	to, err := domain.NewPhoneNumber("+8613812345678", "CN", domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}

	if err := sender.SendSMS(context.Background(), to, "Your verification code is 123456"); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}

	out := strings.TrimRight(buf.String(), "\n")
	if lines := strings.Split(out, "\n"); len(lines) != 1 {
		t.Fatalf("want exactly one log line, got %d:\n%s", len(lines), out)
	}
	for _, want := range []string{
		"level=INFO",
		`msg="sms (log sender, development only)"`,
		"to=+8613812345678",
		`text="Your verification code is 123456"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log line %q does not contain %q", out, want)
		}
	}
}

func TestSender_RefusesZeroNumberWithoutLogging(t *testing.T) {
	var buf bytes.Buffer
	sender := logsms.NewSender(slog.New(slog.NewTextHandler(&buf, nil)))

	err := sender.SendSMS(context.Background(), domain.PhoneNumber{}, "code 123456")

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

	to, err := domain.NewPhoneNumber("+15005550006", "US", domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}
	if err := logsms.NewSender(nil).SendSMS(context.Background(), to, "code 654321"); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if !strings.Contains(buf.String(), "code 654321") {
		t.Fatalf("default logger did not receive the line: %q", buf.String())
	}
}
