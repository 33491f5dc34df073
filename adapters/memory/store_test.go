package memory_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/memory"
	"github.com/lemonmall/verifyd/adapters/storetest"
	"github.com/lemonmall/verifyd/adapters/system"
	"github.com/lemonmall/verifyd/domain"
)

// fakeClock only moves when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestStore_Contract(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store { return memory.NewStore(system.Clock{}) })
}

func TestStore_EntriesExpireOnTheClock(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := memory.NewStore(clock)
	ctx := t.Context()
	phone, err := domain.NewPhoneNumber("+8613800138000", "CN", domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}
	policy := domain.DefaultPolicy()
	digest := []byte("digest")

	if err := s.SaveChallenge(ctx, "c1", "ab3d", policy.CaptchaTTL); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveChallenge(ctx, "c2", "ef5g", policy.CaptchaTTL); err != nil {
		t.Fatal(err)
	}
	if err := s.IssueCode(ctx, phone, domain.NewCode{Digest: digest, TTL: policy.CodeTTL, ResendInterval: policy.ResendInterval}); err != nil {
		t.Fatal(err)
	}

	// Just before the resend interval ends the phone is still throttled, and
	// RetryAfter says by how much.
	clock.Advance(policy.ResendInterval - 1500*time.Microsecond)
	err = s.IssueCode(ctx, phone, domain.NewCode{Digest: []byte("other"), TTL: policy.CodeTTL, ResendInterval: policy.ResendInterval})
	var te *domain.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter != 2*time.Millisecond {
		t.Fatalf("IssueCode 1.5ms before the slot frees = %v, want ThrottledError{RetryAfter: 2ms}", err)
	}
	if got, err := s.TakeChallenge(ctx, "c1"); err != nil || got != "ab3d" {
		t.Fatalf("TakeChallenge before expiry = %q, %v; want %q", got, err, "ab3d")
	}

	// Just before the code expires it still verifies.
	clock.Advance(policy.CodeTTL - policy.ResendInterval)
	if got, err := s.AttemptCode(ctx, phone, policy.MaxAttempts); err != nil || string(got) != string(digest) {
		t.Fatalf("AttemptCode before expiry = %q, %v; want %q", got, err, digest)
	}

	// Once the TTL has fully passed everything is gone.
	clock.Advance(1500 * time.Microsecond)
	if _, err := s.TakeChallenge(ctx, "c2"); !errors.Is(err, domain.ErrChallengeNotFound) {
		t.Fatalf("TakeChallenge after expiry = %v, want ErrChallengeNotFound", err)
	}
	if _, err := s.AttemptCode(ctx, phone, policy.MaxAttempts); !errors.Is(err, domain.ErrCodeNotFound) {
		t.Fatalf("AttemptCode after expiry = %v, want ErrCodeNotFound", err)
	}
	if ok, err := s.ConsumeCode(ctx, phone, digest); err != nil || ok {
		t.Fatalf("ConsumeCode after expiry = %v, %v; want false, nil", ok, err)
	}
	if err := s.IssueCode(ctx, phone, domain.NewCode{Digest: []byte("new"), TTL: policy.CodeTTL, ResendInterval: policy.ResendInterval}); err != nil {
		t.Fatalf("IssueCode after the interval = %v, want nil", err)
	}
}

func TestStore_KeepsItsOwnCopyOfTheDigest(t *testing.T) {
	s := memory.NewStore(system.Clock{})
	ctx := t.Context()
	phone, err := domain.NewPhoneNumber("+8613800138001", "CN", domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}
	digest := []byte("digest")
	if err := s.IssueCode(ctx, phone, domain.NewCode{Digest: digest, TTL: time.Minute, ResendInterval: time.Minute}); err != nil {
		t.Fatal(err)
	}
	digest[0] = 'X'
	got, err := s.AttemptCode(ctx, phone, 5)
	if err != nil || string(got) != "digest" {
		t.Fatalf("AttemptCode after the caller changed its slice = %q, %v; want %q", got, err, "digest")
	}
	got[0] = 'Y'
	if ok, err := s.ConsumeCode(ctx, phone, []byte("digest")); err != nil || !ok {
		t.Fatalf("ConsumeCode after the caller changed a returned slice = %v, %v; want true", ok, err)
	}
}

func TestNewStore_RefusesNilClock(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewStore(nil) did not panic")
		}
	}()
	memory.NewStore(nil)
}
