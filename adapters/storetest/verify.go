package storetest

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/lemonmall/verifyd/domain"
)

// maxTries is the try limit the verification subtests use, the seed's 5.
const maxTries = 5

// runVerify drives AttemptCode and ConsumeCode the way a verification does:
// count, compare in constant time, consume on a match. Of any number of
// concurrent right answers exactly one must win, even when later attempts
// burn the code before the first right answer gets to consume it.
func runVerify(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("RightAnswerCountedWithinTheLimitWinsAfterTheCodeBurns", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, d := newPhone(t), newDigest(t)
		mustIssue(t, s, phone, d, long, long)
		for range maxTries - 1 {
			wantDigest(t, s, phone, maxTries, d)
		}
		// The last attempt within the limit holds the right answer, but
		// before it consumes the code another attempt burns it.
		held := mustAttempt(t, s, phone, maxTries)
		wantCodeNotFound(t, s, phone, maxTries)
		if ok := mustConsume(t, s, phone, held); !ok {
			t.Fatal("ConsumeCode by the attempt counted within the limit = false, want true")
		}
		wantCodeNotFound(t, s, phone, 100)
	})

	t.Run("ExactlyOneOfManyRightAnswersWins", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, d := newPhone(t), newDigest(t)
		mustIssue(t, s, phone, d, long, long)
		var won, lost, compared atomic.Int32
		race(t, racers, func() error {
			ok, got, err := verify(t, s, phone, d)
			if err != nil {
				return err
			}
			if got {
				compared.Add(1)
			}
			if ok {
				won.Add(1)
			} else {
				lost.Add(1)
			}
			return nil
		})
		if won.Load() != 1 || lost.Load() != racers-1 {
			t.Fatalf("%d of %d right answers won and %d lost, want exactly 1 winner", won.Load(), racers, lost.Load())
		}
		wantCompared(t, compared.Load())
		wantCodeNotFound(t, s, phone, 100)
	})

	t.Run("WrongAndRightAnswersMixedStillGiveOneWinner", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, d := newPhone(t), newDigest(t)
		mustIssue(t, s, phone, d, long, long)
		// Fewer wrong answers than tries: whatever the order, at least one
		// right answer is among the attempts counted within the limit.
		const wrong = maxTries - 1
		answers := make([][]byte, racers)
		for i := range answers {
			answers[i] = d
			if i%(racers/wrong) == 0 {
				answers[i] = newDigest(t)
			}
		}
		var next, won, wrongWon, compared atomic.Int32
		race(t, racers, func() error {
			answer := answers[next.Add(1)-1]
			ok, got, err := verify(t, s, phone, answer)
			if err != nil {
				return err
			}
			if got {
				compared.Add(1)
			}
			if ok {
				won.Add(1)
				if !hmac.Equal(answer, d) {
					wrongWon.Add(1)
				}
			}
			return nil
		})
		if wrongWon.Load() != 0 {
			t.Fatalf("%d wrong answers won", wrongWon.Load())
		}
		if won.Load() != 1 {
			t.Fatalf("%d answers won, want exactly 1", won.Load())
		}
		wantCompared(t, compared.Load())
		wantCodeNotFound(t, s, phone, 100)
	})

	t.Run("WrongAnswersOnlyBurnTheCodeForGood", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		phone, d := newPhone(t), newDigest(t)
		mustIssue(t, s, phone, d, long, long)
		var won atomic.Int32
		race(t, racers, func() error {
			ok, _, err := verify(t, s, phone, newDigest(t))
			if ok {
				won.Add(1)
			}
			return err
		})
		if won.Load() != 0 {
			t.Fatalf("%d wrong answers won", won.Load())
		}
		// Burned: the right answer, now or with a higher limit, gets nothing.
		wantCodeNotFound(t, s, phone, maxTries)
		wantCodeNotFound(t, s, phone, 100)
	})
}

// wantCompared checks that at least one and at most the limit's attempts got
// a digest to compare: fewer once the winner consumed the code.
func wantCompared(t *testing.T, n int32) {
	t.Helper()
	if n < 1 || n > maxTries {
		t.Fatalf("%d attempts got a digest to compare, want 1 to the limit's %d", n, maxTries)
	}
}

// verify is one verification of answer against the phone's code, as
// application.VerifySMSCode does it: it reports whether the answer won the
// code and whether it got a digest to compare at all.
func verify(t *testing.T, s Store, phone domain.PhoneNumber, answer []byte) (won, compared bool, err error) {
	stored, err := s.AttemptCode(t.Context(), phone, maxTries)
	if errors.Is(err, domain.ErrCodeNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("AttemptCode = %v", err)
	}
	if !hmac.Equal(stored, answer) {
		return false, true, nil
	}
	ok, err := s.ConsumeCode(t.Context(), phone, stored)
	if err != nil {
		return false, true, fmt.Errorf("ConsumeCode = %v", err)
	}
	return ok, true, nil
}
