package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lemonmall/verifyd/domain"
)

func runRace(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("ChallengeIsTakenByExactlyOneRacer", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		id := newChallengeID(t)
		mustSaveChallenge(t, s, id, "ab3d", long)
		var won, lost atomic.Int32
		race(t, racers, func() error {
			answer, err := s.TakeChallenge(t.Context(), id)
			switch {
			case err == nil && answer == "ab3d":
				won.Add(1)
			case errors.Is(err, domain.ErrChallengeNotFound):
				lost.Add(1)
			default:
				return fmt.Errorf("TakeChallenge = %q, %v", answer, err)
			}
			return nil
		})
		if won.Load() != 1 || lost.Load() != racers-1 {
			t.Fatalf("%d racers took the answer and %d found none, want 1 and %d", won.Load(), lost.Load(), racers-1)
		}
	})

	t.Run("CodeIsIssuedToExactlyOneRacer", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone := newPhone(t)
		digests := make([][]byte, racers)
		for i := range digests {
			digests[i] = newDigest(t)
		}
		var next, issued, throttled atomic.Int32
		var mu sync.Mutex
		var winner []byte
		race(t, racers, func() error {
			d := digests[next.Add(1)-1]
			err := s.IssueCode(t.Context(), phone, domain.NewCode{Digest: d, TTL: long, ResendInterval: long})
			var te *domain.ThrottledError
			switch {
			case err == nil:
				issued.Add(1)
				mu.Lock()
				winner = d
				mu.Unlock()
			case errors.As(err, &te):
				throttled.Add(1)
			default:
				return fmt.Errorf("IssueCode = %v", err)
			}
			return nil
		})
		if issued.Load() != 1 || throttled.Load() != racers-1 {
			t.Fatalf("%d IssueCode calls succeeded and %d were throttled, want 1 and %d", issued.Load(), throttled.Load(), racers-1)
		}
		wantDigest(t, s, phone, 5, winner)
	})

	t.Run("ConcurrentAttemptsAreAllCounted", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, d := newPhone(t), newDigest(t)
		mustIssue(t, s, phone, d, long, long)
		const attempts, maxAttempts = 50, 5
		var got, notFound atomic.Int32
		race(t, attempts, func() error {
			digest, err := s.AttemptCode(t.Context(), phone, maxAttempts)
			switch {
			case err == nil && string(digest) == string(d):
				got.Add(1)
			case errors.Is(err, domain.ErrCodeNotFound):
				notFound.Add(1)
			default:
				return fmt.Errorf("AttemptCode = %x, %v", digest, err)
			}
			return nil
		})
		if got.Load() != maxAttempts || notFound.Load() != attempts-maxAttempts {
			t.Fatalf("%d attempts got the digest and %d found none, want %d and %d",
				got.Load(), notFound.Load(), maxAttempts, attempts-maxAttempts)
		}
		wantCodeNotFound(t, s, phone, maxAttempts)
	})

	t.Run("CodeIsConsumedByExactlyOneRacer", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, d := newPhone(t), newDigest(t)
		mustIssue(t, s, phone, d, long, long)
		var won, lost atomic.Int32
		race(t, racers, func() error {
			ok, err := s.ConsumeCode(t.Context(), phone, d)
			switch {
			case err != nil:
				return fmt.Errorf("ConsumeCode = %v", err)
			case ok:
				won.Add(1)
			default:
				lost.Add(1)
			}
			return nil
		})
		if won.Load() != 1 || lost.Load() != racers-1 {
			t.Fatalf("%d racers consumed the code and %d did not, want 1 and %d", won.Load(), lost.Load(), racers-1)
		}
		wantCodeNotFound(t, s, phone, 5)
	})
}

// race runs fn in n goroutines released together and reports every error.
func race(t *testing.T, n int, fn func() error) {
	t.Helper()
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			if err := fn(); err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}
