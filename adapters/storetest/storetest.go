// Package storetest is the contract every ChallengeStore and CodeStore
// implementation must honour. Each adapter runs the same suite, so the memory
// store used in unit tests and the Redis store used in production cannot drift
// apart.
//
// Every subtest uses its own random challenge ids and phone numbers, so the
// suite can run repeatedly and in parallel against one shared Redis database.
package storetest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// Store is what the suite exercises: one value serving both ports.
type Store interface {
	domain.ChallengeStore
	domain.CodeStore
}

// Durations used by the suite. Short ones are slept past; long ones must not
// run out while a subtest is busy, even under -race on a loaded machine.
const (
	short     = 300 * time.Millisecond
	pastShort = 600 * time.Millisecond
	long      = time.Minute
)

// racers is how many goroutines the race subtests start at once.
const racers = 64

// Run runs the contract suite. newStore is called once per subtest; it may
// return a fresh store or one sharing a backend with others.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	t.Helper()
	t.Run("challenge", func(t *testing.T) { runChallenge(t, newStore) })
	t.Run("code", func(t *testing.T) { runCode(t, newStore) })
	t.Run("race", func(t *testing.T) { runRace(t, newStore) })
	t.Run("verify", func(t *testing.T) { runVerify(t, newStore) })
	t.Run("quota", func(t *testing.T) { runQuotas(t, newStore) })
	t.Run("withdraw", func(t *testing.T) { runWithdraw(t, newStore) })
	t.Run("check", func(t *testing.T) { runCheckIssue(t, newStore) })
}

func runChallenge(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("TakeReturnsTheSavedAnswer", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		id := newChallengeID(t)
		mustSaveChallenge(t, s, id, "ab3d", long)
		if got := mustTakeChallenge(t, s, id); got != "ab3d" {
			t.Fatalf("TakeChallenge = %q, want %q", got, "ab3d")
		}
	})

	t.Run("AnswerCanBeTakenOnlyOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		id := newChallengeID(t)
		mustSaveChallenge(t, s, id, "ab3d", long)
		mustTakeChallenge(t, s, id)
		wantChallengeNotFound(t, s, id)
	})

	t.Run("UnknownIDIsNotFound", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		wantChallengeNotFound(t, s, newChallengeID(t))
	})

	t.Run("SaveReplacesTheEarlierAnswer", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		id := newChallengeID(t)
		mustSaveChallenge(t, s, id, "old1", long)
		mustSaveChallenge(t, s, id, "new2", long)
		if got := mustTakeChallenge(t, s, id); got != "new2" {
			t.Fatalf("TakeChallenge = %q, want the newer answer %q", got, "new2")
		}
		wantChallengeNotFound(t, s, id)
	})

	t.Run("AnswerExpiresAfterItsTTL", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		expiring, lasting := newChallengeID(t), newChallengeID(t)
		mustSaveChallenge(t, s, expiring, "gone", short)
		mustSaveChallenge(t, s, lasting, "kept", long)
		time.Sleep(pastShort)
		wantChallengeNotFound(t, s, expiring)
		if got := mustTakeChallenge(t, s, lasting); got != "kept" {
			t.Fatalf("TakeChallenge = %q, want %q", got, "kept")
		}
	})

	t.Run("ChallengesAreIndependent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		a, b := newChallengeID(t), newChallengeID(t)
		mustSaveChallenge(t, s, a, "aaaa", long)
		mustSaveChallenge(t, s, b, "bbbb", long)
		if got := mustTakeChallenge(t, s, a); got != "aaaa" {
			t.Fatalf("TakeChallenge(a) = %q, want %q", got, "aaaa")
		}
		if got := mustTakeChallenge(t, s, b); got != "bbbb" {
			t.Fatalf("TakeChallenge(b) = %q, want %q", got, "bbbb")
		}
	})

	t.Run("NonPositiveTTLIsRefused", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		id := newChallengeID(t)
		for _, ttl := range []time.Duration{0, -time.Second} {
			if err := s.SaveChallenge(t.Context(), id, "ab3d", ttl); err == nil {
				t.Errorf("SaveChallenge with ttl %v = nil, want an error", ttl)
			}
		}
		wantChallengeNotFound(t, s, id)
	})
}

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
