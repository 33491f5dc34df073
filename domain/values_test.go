package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestParseChallengeID_AcceptsRFC4122UUIDsInAnyCase(t *testing.T) {
	got, err := ParseChallengeID("0F8FAD5B-D9CB-469F-A165-70867728950E")
	if err != nil {
		t.Fatal(err)
	}
	if got != "0f8fad5b-d9cb-469f-a165-70867728950e" {
		t.Errorf("got %q, want it lower-cased", got)
	}
}

func TestParseChallengeID_RejectsAnythingElse(t *testing.T) {
	for _, raw := range []string{
		"", "abc", "0f8fad5bd9cb469fa16570867728950e",
		"0f8fad5b-d9cb-469f-a165-70867728950e0",
		"0f8fad5b-d9cb-469f-a165_70867728950e",
		"0f8fad5b-d9cb-469f-c165-70867728950e", // not the RFC 4122 variant
		"0g8fad5b-d9cb-469f-a165-70867728950e",
		"../../../../../../../../../../etc/pa",
	} {
		var invalid *InvalidInputError
		if _, err := ParseChallengeID(raw); !errors.As(err, &invalid) || invalid.Field != "uuid" {
			t.Errorf("ParseChallengeID(%q) err = %v, want an invalid uuid", raw, err)
		}
	}
}

func TestParseSMSCode(t *testing.T) {
	if c, err := ParseSMSCode(" 012345 "); err != nil || c != "012345" {
		t.Errorf("got %q %v", c, err)
	}
	for _, raw := range []string{"", "12345", "1234567", "12345a", "１２３４５６"} {
		if _, err := ParseSMSCode(raw); err == nil {
			t.Errorf("ParseSMSCode(%q) accepted", raw)
		}
	}
}

func TestParseImageCode(t *testing.T) {
	if c, err := ParseImageCode(" Ab3K "); err != nil || c != "Ab3K" {
		t.Errorf("got %q %v", c, err)
	}
	for _, raw := range []string{"", "   ", "12345678901234567"} {
		if _, err := ParseImageCode(raw); err == nil {
			t.Errorf("ParseImageCode(%q) accepted", raw)
		}
	}
}

func TestNewPhoneNumber_WantsE164(t *testing.T) {
	if _, err := NewPhoneNumber("+8613800138000", "cn", LineMobile); err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"", "+", "8613800138000", "+0861", "+86 138", "+1234567890123456"} {
		if _, err := NewPhoneNumber(raw, "", LineUnknown); !errors.Is(err, ErrInvalidPhone) {
			t.Errorf("NewPhoneNumber(%q) err = %v", raw, err)
		}
	}
}

func TestPhoneNumber_StringMasksAllButTheLastFourDigits(t *testing.T) {
	p, _ := NewPhoneNumber("+8613800138000", "CN", LineMobile)
	if got := p.String(); got != "**********8000" {
		t.Errorf("String() = %q", got)
	}
}

func TestCodeDigester_BindsThePhoneAndNeedsALongSecret(t *testing.T) {
	if _, err := NewCodeDigester([]byte("short")); err == nil {
		t.Fatal("short secret accepted")
	}
	d, err := NewCodeDigester([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := NewPhoneNumber("+8613800138000", "CN", LineMobile)
	b, _ := NewPhoneNumber("+8613800138001", "CN", LineMobile)
	if string(d.Digest(a, "123456")) == string(d.Digest(b, "123456")) {
		t.Error("same code on two phones has the same digest")
	}
	first, again := d.Digest(a, "123456"), d.Digest(a, "123456")
	if string(first) != string(again) {
		t.Error("digest is not deterministic")
	}
}

func TestIsRetryableSend(t *testing.T) {
	if IsRetryableSend(nil) {
		t.Error("nil is retryable")
	}
	if IsRetryableSend(&SendError{Code: 21211}) {
		t.Error("permanent SendError is retryable")
	}
	if !IsRetryableSend(errors.New("connection reset")) {
		t.Error("unknown error is not retryable")
	}
}

func TestSMSMessage_RedactMasksCodeAndNumber(t *testing.T) {
	to, _ := NewPhoneNumber("+8613800138000", "CN", LineMobile)
	m := SMSMessage{To: to, Code: "123456"}
	got := m.Redact(`provider: "Your verification code is 123456." to +8613800138000 (8613800138000)`)
	if strings.Contains(got, "123456") || strings.Contains(got, "13800138000") {
		t.Fatalf("Redact left a secret: %s", got)
	}
}
