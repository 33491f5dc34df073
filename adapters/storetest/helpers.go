package storetest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

func mustSaveChallenge(t *testing.T, s Store, id domain.ChallengeID, answer string, ttl time.Duration) {
	t.Helper()
	if err := s.SaveChallenge(t.Context(), id, answer, ttl); err != nil {
		t.Fatalf("SaveChallenge: %v", err)
	}
}

func mustTakeChallenge(t *testing.T, s Store, id domain.ChallengeID) string {
	t.Helper()
	answer, err := s.TakeChallenge(t.Context(), id)
	if err != nil {
		t.Fatalf("TakeChallenge: %v", err)
	}
	return answer
}

func wantChallengeNotFound(t *testing.T, s Store, id domain.ChallengeID) {
	t.Helper()
	answer, err := s.TakeChallenge(t.Context(), id)
	if !errors.Is(err, domain.ErrChallengeNotFound) {
		t.Fatalf("TakeChallenge = %q, %v; want domain.ErrChallengeNotFound", answer, err)
	}
}

func mustIssue(t *testing.T, s Store, phone domain.PhoneNumber, digest []byte, ttl, interval time.Duration) {
	t.Helper()
	err := s.IssueCode(t.Context(), phone, domain.NewCode{Digest: digest, TTL: ttl, ResendInterval: interval})
	if err != nil {
		t.Fatalf("IssueCode: %v", err)
	}
}

func wantThrottled(t *testing.T, s Store, phone domain.PhoneNumber, interval time.Duration) {
	t.Helper()
	err := s.IssueCode(t.Context(), phone, domain.NewCode{Digest: newDigest(t), TTL: long, ResendInterval: interval})
	var te *domain.ThrottledError
	if !errors.As(err, &te) {
		t.Fatalf("IssueCode = %v, want a *domain.ThrottledError", err)
	}
	if te.RetryAfter <= 0 || te.RetryAfter > interval {
		t.Fatalf("RetryAfter = %v, want within (0, %v]", te.RetryAfter, interval)
	}
}

func mustAttempt(t *testing.T, s Store, phone domain.PhoneNumber, maxAttempts int) []byte {
	t.Helper()
	digest, err := s.AttemptCode(t.Context(), phone, maxAttempts)
	if err != nil {
		t.Fatalf("AttemptCode: %v", err)
	}
	return digest
}

func wantDigest(t *testing.T, s Store, phone domain.PhoneNumber, maxAttempts int, want []byte) {
	t.Helper()
	if got := mustAttempt(t, s, phone, maxAttempts); string(got) != string(want) {
		t.Fatalf("AttemptCode = %x, want %x", got, want)
	}
}

func wantCodeNotFound(t *testing.T, s Store, phone domain.PhoneNumber, maxAttempts int) {
	t.Helper()
	digest, err := s.AttemptCode(t.Context(), phone, maxAttempts)
	if !errors.Is(err, domain.ErrCodeNotFound) {
		t.Fatalf("AttemptCode = %x, %v; want domain.ErrCodeNotFound", digest, err)
	}
}

func mustConsume(t *testing.T, s Store, phone domain.PhoneNumber, digest []byte) bool {
	t.Helper()
	ok, err := s.ConsumeCode(t.Context(), phone, digest)
	if err != nil {
		t.Fatalf("ConsumeCode: %v", err)
	}
	return ok
}

// newChallengeID returns a random RFC 4122 version 4 UUID.
func newChallengeID(t testing.TB) domain.ChallengeID {
	t.Helper()
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	raw := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	id, err := domain.ParseChallengeID(raw)
	if err != nil {
		t.Fatalf("ParseChallengeID(%q): %v", raw, err)
	}
	return id
}

// newPhone returns a random Chinese mobile number, so that runs sharing one
// Redis database do not see each other's codes or resend slots.
func newPhone(t testing.TB) domain.PhoneNumber {
	t.Helper()
	var b [8]byte
	rand.Read(b[:])
	digits := make([]byte, len(b))
	for i, v := range b {
		digits[i] = '0' + v%10
	}
	phone, err := domain.NewPhoneNumber("+86138"+string(digits), "CN", domain.LineMobile)
	if err != nil {
		t.Fatalf("NewPhoneNumber: %v", err)
	}
	return phone
}

// newDigest returns 32 random bytes, the size of an HMAC-SHA256 digest; they
// include zero bytes and invalid UTF-8, which a store must keep intact.
func newDigest(t testing.TB) []byte {
	t.Helper()
	d := make([]byte, 32)
	rand.Read(d)
	return d
}
