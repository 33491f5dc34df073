// Package storetest is the contract every ChallengeStore and CodeStore
// implementation must honour. Each adapter runs the same suite, so the memory
// store used in unit tests and the Redis store used in production cannot drift
// apart.
//
// Every subtest uses its own random challenge ids and phone numbers, so the
// suite can run repeatedly and in parallel against one shared Redis database.
package storetest

import (
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
