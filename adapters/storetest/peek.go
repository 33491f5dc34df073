package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// runCheckIssue checks CheckIssue: it answers as IssueCode would, and
// changes nothing.
func runCheckIssue(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("FreePhonePassesAndNothingIsClaimed", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone := newPhone(t)
		quotas := []domain.Quota{{Max: 1, Window: long}}
		for range 3 {
			if err := s.CheckIssue(t.Context(), phone, quotas); err != nil {
				t.Fatalf("CheckIssue on a free phone = %v, want nil", err)
			}
		}
		// Three checks took no slot and no quota place: the one code allowed
		// can still be issued.
		if err := s.IssueCode(t.Context(), phone, domain.NewCode{Digest: newDigest(t), TTL: long, ResendInterval: short, Quotas: quotas}); err != nil {
			t.Fatalf("IssueCode after checks: %v", err)
		}
	})

	t.Run("TakenSlotIsReportedWithItsWait", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, d := newPhone(t), newDigest(t)
		mustIssue(t, s, phone, d, long, long)
		var te *domain.ThrottledError
		if err := s.CheckIssue(t.Context(), phone, nil); !errors.As(err, &te) {
			t.Fatalf("CheckIssue within the interval = %v, want ThrottledError", err)
		}
		if te.RetryAfter <= 0 || te.RetryAfter > long {
			t.Fatalf("RetryAfter = %v, want within (0, %v]", te.RetryAfter, long)
		}
		// The check neither replaced nor counted against the live code.
		wantDigest(t, s, phone, 1, d)
	})

	t.Run("FullQuotaIsReportedOnceTheSlotIsFree", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone := newPhone(t)
		quotas := []domain.Quota{{Max: 1, Window: long}}
		if err := s.IssueCode(t.Context(), phone, domain.NewCode{Digest: newDigest(t), TTL: long, ResendInterval: short, Quotas: quotas}); err != nil {
			t.Fatal(err)
		}
		waitCheckIssue(t, s, phone, nil)
		var te *domain.ThrottledError
		if err := s.CheckIssue(t.Context(), phone, quotas); !errors.As(err, &te) || te.RetryAfter <= short {
			t.Fatalf("CheckIssue with a full quota = %v, want ThrottledError with the quota's wait", err)
		}
	})
}

// waitCheckIssue waits, up to long, until CheckIssue lets phone through.
func waitCheckIssue(t *testing.T, s Store, phone domain.PhoneNumber, quotas []domain.Quota) {
	t.Helper()
	deadline := time.Now().Add(long)
	for {
		err := s.CheckIssue(t.Context(), phone, quotas)
		if err == nil {
			return
		}
		if !errors.As(err, new(*domain.ThrottledError)) || time.Now().After(deadline) {
			t.Fatalf("CheckIssue = %v, want the slot to free itself", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
