package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

func runCode(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("AttemptReturnsTheIssuedDigest", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, d := newPhone(t), newDigest(t)
		mustIssue(t, s, phone, d, long, long)
		wantDigest(t, s, phone, 5, d)
	})

	t.Run("PhoneWithoutCodeIsNotFound", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone := newPhone(t)
		wantCodeNotFound(t, s, phone, 5)
		if ok := mustConsume(t, s, phone, newDigest(t)); ok {
			t.Fatal("ConsumeCode on a phone without code = true, want false")
		}
	})

	t.Run("SecondIssueWithinIntervalIsThrottledAndReplacesNothing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, first := newPhone(t), newDigest(t)
		mustIssue(t, s, phone, first, long, long)
		for range 3 {
			wantDigest(t, s, phone, 10, first)
		}

		err := s.IssueCode(t.Context(), phone, domain.NewCode{Digest: newDigest(t), TTL: long, ResendInterval: long})
		var te *domain.ThrottledError
		if !errors.As(err, &te) {
			t.Fatalf("second IssueCode = %v, want a *domain.ThrottledError", err)
		}
		if te.RetryAfter <= 0 || te.RetryAfter > long {
			t.Fatalf("RetryAfter = %v, want within (0, %v]", te.RetryAfter, long)
		}
		// The first code still verifies and its attempt counter was not reset:
		// 3 attempts were used above, so 7 of 10 remain.
		for range 7 {
			wantDigest(t, s, phone, 10, first)
		}
		wantCodeNotFound(t, s, phone, 10)
	})

	t.Run("IssueAfterIntervalReplacesDigestAndResetsAttempts", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, first, second := newPhone(t), newDigest(t), newDigest(t)
		mustIssue(t, s, phone, first, long, short)
		for range 4 {
			wantDigest(t, s, phone, 5, first)
		}
		time.Sleep(pastShort)
		mustIssue(t, s, phone, second, long, short)
		for i := range 5 {
			if got := mustAttempt(t, s, phone, 5); string(got) != string(second) {
				t.Fatalf("attempt %d after reissue returned %x, want the new digest %x", i+1, got, second)
			}
		}
		wantCodeNotFound(t, s, phone, 5)
	})

	t.Run("AttemptsBeyondMaxBurnTheCode", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, d := newPhone(t), newDigest(t)
		mustIssue(t, s, phone, d, long, long)
		for i := range 5 {
			if got := mustAttempt(t, s, phone, 5); string(got) != string(d) {
				t.Fatalf("attempt %d = %x, want %x", i+1, got, d)
			}
		}
		wantCodeNotFound(t, s, phone, 5)
		// Burned for good: a later attempt with a higher limit finds nothing
		// either, so no answer can be compared with it any more. (The code is
		// kept for attempts already counted within the limit: see runVerify.)
		wantCodeNotFound(t, s, phone, 100)
	})

	t.Run("NewCodeReplacesABurnedOne", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, burned, next := newPhone(t), newDigest(t), newDigest(t)
		mustIssue(t, s, phone, burned, long, short)
		wantDigest(t, s, phone, 1, burned)
		wantCodeNotFound(t, s, phone, 1)
		wantCodeNotFound(t, s, phone, 5)
		time.Sleep(pastShort)
		mustIssue(t, s, phone, next, long, short)
		for range 5 {
			wantDigest(t, s, phone, 5, next)
		}
		if ok := mustConsume(t, s, phone, burned); ok {
			t.Fatal("ConsumeCode with the burned code's digest after a new code = true, want false")
		}
		if ok := mustConsume(t, s, phone, next); !ok {
			t.Fatal("ConsumeCode with the new code's digest = false, want true")
		}
	})

	t.Run("ConsumeWithRightDigestDeletesTheCode", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, d := newPhone(t), newDigest(t)
		mustIssue(t, s, phone, d, long, long)
		wantDigest(t, s, phone, 5, d)
		if ok := mustConsume(t, s, phone, d); !ok {
			t.Fatal("ConsumeCode with the right digest = false, want true")
		}
		wantCodeNotFound(t, s, phone, 5)
		if ok := mustConsume(t, s, phone, d); ok {
			t.Fatal("second ConsumeCode = true, want false")
		}
	})

	t.Run("ConsumeWithOtherDigestKeepsTheCode", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, d := newPhone(t), newDigest(t)
		mustIssue(t, s, phone, d, long, long)
		if ok := mustConsume(t, s, phone, newDigest(t)); ok {
			t.Fatal("ConsumeCode with a different digest = true, want false")
		}
		wantDigest(t, s, phone, 5, d)
		if ok := mustConsume(t, s, phone, d); !ok {
			t.Fatal("ConsumeCode with the right digest = false, want true")
		}
	})

	t.Run("ConsumeOfReplacedCodeFails", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, first, second := newPhone(t), newDigest(t), newDigest(t)
		mustIssue(t, s, phone, first, long, short)
		wantDigest(t, s, phone, 5, first)
		time.Sleep(pastShort)
		mustIssue(t, s, phone, second, long, short)
		if ok := mustConsume(t, s, phone, first); ok {
			t.Fatal("ConsumeCode with the replaced digest = true, want false")
		}
		wantDigest(t, s, phone, 5, second)
	})

	t.Run("CodeExpiresAfterItsTTL", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		expiring, lasting := newPhone(t), newPhone(t)
		de, dl := newDigest(t), newDigest(t)
		mustIssue(t, s, expiring, de, short, long)
		mustIssue(t, s, lasting, dl, long, long)
		time.Sleep(pastShort)
		wantCodeNotFound(t, s, expiring, 5)
		if ok := mustConsume(t, s, expiring, de); ok {
			t.Fatal("ConsumeCode of an expired code = true, want false")
		}
		wantDigest(t, s, lasting, 5, dl)
	})

	t.Run("ExpiredCodeDoesNotFreeTheResendSlot", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone := newPhone(t)
		mustIssue(t, s, phone, newDigest(t), short, long)
		time.Sleep(pastShort)
		wantCodeNotFound(t, s, phone, 5)
		wantThrottled(t, s, phone, long)
	})

	t.Run("ConsumedCodeDoesNotFreeTheResendSlot", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, d := newPhone(t), newDigest(t)
		mustIssue(t, s, phone, d, long, long)
		if ok := mustConsume(t, s, phone, d); !ok {
			t.Fatal("ConsumeCode with the right digest = false, want true")
		}
		wantThrottled(t, s, phone, long)
	})

	t.Run("PhonesAreIndependent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		a, b := newPhone(t), newPhone(t)
		da, db := newDigest(t), newDigest(t)
		mustIssue(t, s, a, da, long, long)
		mustIssue(t, s, b, db, long, long) // a's resend slot does not throttle b
		for range 5 {
			wantDigest(t, s, a, 5, da)
		}
		wantCodeNotFound(t, s, a, 5)
		// b's attempts were not spent by a's.
		wantDigest(t, s, b, 1, db)
		if ok := mustConsume(t, s, b, da); ok {
			t.Fatal("ConsumeCode(b) with a's digest = true, want false")
		}
		if ok := mustConsume(t, s, b, db); !ok {
			t.Fatal("ConsumeCode(b) with b's digest = false, want true")
		}
	})

	t.Run("NonPositiveDurationsAreRefused", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone := newPhone(t)
		for _, c := range []domain.NewCode{
			{Digest: newDigest(t), TTL: 0, ResendInterval: long},
			{Digest: newDigest(t), TTL: long, ResendInterval: 0},
			{Digest: newDigest(t), TTL: -time.Second, ResendInterval: long},
		} {
			if err := s.IssueCode(t.Context(), phone, c); err == nil {
				t.Errorf("IssueCode(TTL %v, interval %v) = nil, want an error", c.TTL, c.ResendInterval)
			}
		}
		// Nothing was stored and the resend slot is still free.
		wantCodeNotFound(t, s, phone, 5)
		mustIssue(t, s, phone, newDigest(t), long, long)
	})
}
