package storetest

import (
	"testing"
	"time"
)

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
