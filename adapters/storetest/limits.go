package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// runQuotas checks the per-phone quotas IssueCode enforces together with the
// resend interval.
func runQuotas(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("QuotaRefusesCodesBeyondItsCountUntilItsWindowMoves", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone := newPhone(t)
		quotas := []domain.Quota{{Max: 2, Window: long}}
		issue := func() error {
			return s.IssueCode(t.Context(), phone, domain.NewCode{Digest: newDigest(t), TTL: long, ResendInterval: short, Quotas: quotas})
		}
		for i := range 2 {
			if err := issue(); err != nil {
				t.Fatalf("code %d: %v", i+1, err)
			}
			time.Sleep(pastShort)
		}
		err := issue()
		var te *domain.ThrottledError
		if !errors.As(err, &te) {
			t.Fatalf("third code in the window: %v, want ThrottledError", err)
		}
		if te.RetryAfter <= short || te.RetryAfter > long {
			t.Fatalf("RetryAfter = %v, want the quota's wait in (%v, %v]", te.RetryAfter, short, long)
		}
	})

	t.Run("RefusedCodeDoesNotReplaceTheLiveOne", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone := newPhone(t)
		first := newDigest(t)
		quotas := []domain.Quota{{Max: 1, Window: long}}
		if err := s.IssueCode(t.Context(), phone, domain.NewCode{Digest: first, TTL: long, ResendInterval: short, Quotas: quotas}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(pastShort)
		err := s.IssueCode(t.Context(), phone, domain.NewCode{Digest: newDigest(t), TTL: long, ResendInterval: short, Quotas: quotas})
		if !errors.As(err, new(*domain.ThrottledError)) {
			t.Fatalf("IssueCode = %v, want ThrottledError", err)
		}
		wantDigest(t, s, phone, 5, first)
	})

	t.Run("ShortQuotaWindowFreesRoomAgain", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone := newPhone(t)
		quotas := []domain.Quota{{Max: 1, Window: short}}
		interval := 50 * time.Millisecond
		if err := s.IssueCode(t.Context(), phone, domain.NewCode{Digest: newDigest(t), TTL: long, ResendInterval: interval, Quotas: quotas}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(pastShort)
		if err := s.IssueCode(t.Context(), phone, domain.NewCode{Digest: newDigest(t), TTL: long, ResendInterval: interval, Quotas: quotas}); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})

	t.Run("RacersNeverGetMoreCodesThanTheQuota", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone := newPhone(t)
		quotas := []domain.Quota{{Max: 3, Window: long}}
		var issued atomic.Int32
		race(t, racers, func() error {
			for range 20 {
				err := s.IssueCode(t.Context(), phone, domain.NewCode{Digest: newDigest(t), TTL: long, ResendInterval: time.Millisecond, Quotas: quotas})
				switch {
				case err == nil:
					issued.Add(1)
				case errors.As(err, new(*domain.ThrottledError)):
				default:
					return err
				}
				time.Sleep(2 * time.Millisecond)
			}
			return nil
		})
		if issued.Load() != 3 {
			t.Fatalf("%d codes issued, want exactly the quota's 3", issued.Load())
		}
	})
}

// RunLimiter is the contract every domain.RateLimiter honours. newLimiter is
// called once per subtest; keys are random, so limiters may share a backend.
func RunLimiter(t *testing.T, newLimiter func(t *testing.T) domain.RateLimiter) {
	t.Helper()
	t.Run("AllowsMaxThenThrottlesWithinTheWindow", func(t *testing.T) {
		t.Parallel()
		l, key := newLimiter(t), newKey(t)
		q := []domain.Quota{{Max: 3, Window: long}}
		for i := range 3 {
			if err := l.Take(t.Context(), key, q); err != nil {
				t.Fatalf("event %d: %v", i+1, err)
			}
		}
		wantLimited(t, l, key, q, 0, long)
	})

	t.Run("WindowSlidesAndRefusedEventsAreNotCounted", func(t *testing.T) {
		t.Parallel()
		l, key := newLimiter(t), newKey(t)
		q := []domain.Quota{{Max: 2, Window: short}}
		for range 2 {
			if err := l.Take(t.Context(), key, q); err != nil {
				t.Fatal(err)
			}
		}
		for range 5 {
			wantLimited(t, l, key, q, 0, short)
		}
		time.Sleep(pastShort)
		for i := range 2 {
			if err := l.Take(t.Context(), key, q); err != nil {
				t.Fatalf("event %d after the window: %v", i+1, err)
			}
		}
	})

	t.Run("EveryQuotaMustHaveRoom", func(t *testing.T) {
		t.Parallel()
		l, key := newLimiter(t), newKey(t)
		q := []domain.Quota{{Max: 2, Window: short}, {Max: 3, Window: long}}
		for range 2 {
			if err := l.Take(t.Context(), key, q); err != nil {
				t.Fatal(err)
			}
		}
		wantLimited(t, l, key, q, 0, short)
		time.Sleep(pastShort)
		if err := l.Take(t.Context(), key, q); err != nil {
			t.Fatalf("third event, short window moved on: %v", err)
		}
		// Now the long quota is full: the wait is the long window's.
		wantLimited(t, l, key, q, short, long)
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		a, b := newKey(t), newKey(t)
		q := []domain.Quota{{Max: 1, Window: long}}
		if err := l.Take(t.Context(), a, q); err != nil {
			t.Fatal(err)
		}
		if err := l.Take(t.Context(), b, q); err != nil {
			t.Fatalf("other key: %v", err)
		}
	})

	t.Run("NoQuotasAllowEverything", func(t *testing.T) {
		t.Parallel()
		l, key := newLimiter(t), newKey(t)
		for range 10 {
			if err := l.Take(t.Context(), key, nil); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("CheckAnswersAsTakeWouldAndCountsNothing", func(t *testing.T) {
		t.Parallel()
		l, key := newLimiter(t), newKey(t)
		q := []domain.Quota{{Max: 2, Window: short}}
		for range 5 {
			if err := l.Check(t.Context(), key, q); err != nil {
				t.Fatalf("Check on an empty key: %v", err)
			}
		}
		for i := range 2 {
			if err := l.Take(t.Context(), key, q); err != nil {
				t.Fatalf("event %d after checks: %v, want checks to count nothing", i+1, err)
			}
		}
		wantChecked(t, l, key, q, 0, short)
		wantLimited(t, l, key, q, 0, short)
		time.Sleep(pastShort)
		if err := l.Check(t.Context(), key, q); err != nil {
			t.Fatalf("Check after the window: %v", err)
		}
		if err := l.Check(t.Context(), key, nil); err != nil {
			t.Fatalf("Check without quotas: %v", err)
		}
	})

	t.Run("CheckSeesEveryQuotaAndOnlyItsKey", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		a, b := newKey(t), newKey(t)
		q := []domain.Quota{{Max: 5, Window: short}, {Max: 1, Window: long}}
		if err := l.Take(t.Context(), a, q); err != nil {
			t.Fatal(err)
		}
		wantChecked(t, l, a, q, short, long)
		if err := l.Check(t.Context(), b, q); err != nil {
			t.Fatalf("Check on another key: %v", err)
		}
	})

	t.Run("RacersGetExactlyMaxEvents", func(t *testing.T) {
		t.Parallel()
		l, key := newLimiter(t), newKey(t)
		q := []domain.Quota{{Max: 10, Window: long}}
		var allowed, refused atomic.Int32
		race(t, racers, func() error {
			err := l.Take(t.Context(), key, q)
			switch {
			case err == nil:
				allowed.Add(1)
			case errors.As(err, new(*domain.ThrottledError)):
				refused.Add(1)
			default:
				return err
			}
			return nil
		})
		if allowed.Load() != 10 || refused.Load() != racers-10 {
			t.Fatalf("%d allowed and %d refused, want 10 and %d", allowed.Load(), refused.Load(), racers-10)
		}
	})
}

func wantLimited(t *testing.T, l domain.RateLimiter, key string, q []domain.Quota, above, atMost time.Duration) {
	t.Helper()
	err := l.Take(t.Context(), key, q)
	var te *domain.ThrottledError
	if !errors.As(err, &te) {
		t.Fatalf("Take = %v, want ThrottledError", err)
	}
	if te.RetryAfter <= above || te.RetryAfter > atMost {
		t.Fatalf("RetryAfter = %v, want in (%v, %v]", te.RetryAfter, above, atMost)
	}
}

func wantChecked(t *testing.T, l domain.RateLimiter, key string, q []domain.Quota, above, atMost time.Duration) {
	t.Helper()
	err := l.Check(t.Context(), key, q)
	var te *domain.ThrottledError
	if !errors.As(err, &te) {
		t.Fatalf("Check = %v, want ThrottledError", err)
	}
	if te.RetryAfter <= above || te.RetryAfter > atMost {
		t.Fatalf("Check's RetryAfter = %v, want in (%v, %v]", te.RetryAfter, above, atMost)
	}
}

func newKey(t testing.TB) string {
	t.Helper()
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("test:%s", hex.EncodeToString(b[:]))
}

// runWithdraw checks WithdrawCode, the undo of an IssueCode whose message
// never left.
func runWithdraw(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("WithdrawnCodeIsGoneAndThePhoneMayAskAgainAtOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone := newPhone(t)
		digest := newDigest(t)
		quotas := []domain.Quota{{Max: 1, Window: long}}
		if err := s.IssueCode(t.Context(), phone, domain.NewCode{Digest: digest, TTL: long, ResendInterval: long, Quotas: quotas}); err != nil {
			t.Fatal(err)
		}
		if err := s.WithdrawCode(t.Context(), phone, digest); err != nil {
			t.Fatal(err)
		}
		wantCodeNotFound(t, s, phone, 5)
		// Neither the resend slot nor the quota of 1 stands in the way.
		next := newDigest(t)
		if err := s.IssueCode(t.Context(), phone, domain.NewCode{Digest: next, TTL: long, ResendInterval: long, Quotas: quotas}); err != nil {
			t.Fatalf("IssueCode after a withdrawal: %v", err)
		}
		wantDigest(t, s, phone, 5, next)
	})

	t.Run("WithdrawingAReplacedCodeChangesNothing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone := newPhone(t)
		live := newDigest(t)
		mustIssue(t, s, phone, live, long, long)
		if err := s.WithdrawCode(t.Context(), phone, newDigest(t)); err != nil {
			t.Fatal(err)
		}
		wantDigest(t, s, phone, 5, live)
		wantThrottled(t, s, phone, long)
	})
}
