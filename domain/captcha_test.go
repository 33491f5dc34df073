package domain

import (
	"crypto/rand"
	"errors"
	"math/big"
	"testing"
)

// osRandom draws from crypto/rand, as the real adapter does.
type osRandom struct{}

func (osRandom) String(n int, alphabet string) (string, error) {
	out := make([]byte, n)
	for i := range out {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out), nil
}

type failingRandom struct{}

func (failingRandom) String(int, string) (string, error) { return "", errors.New("no entropy") }

func TestNewChallengeID_IsAVersion4UUIDThatParsesAsItself(t *testing.T) {
	seen := map[ChallengeID]bool{}
	for range 1000 {
		id, err := NewChallengeID(osRandom{})
		if err != nil {
			t.Fatal(err)
		}
		if s := string(id); s[14] != '4' || (s[19] != '8' && s[19] != '9' && s[19] != 'a' && s[19] != 'b') {
			t.Fatalf("%s is not a version 4, RFC 4122 variant UUID", id)
		}
		parsed, err := ParseChallengeID(string(id))
		if err != nil || parsed != id {
			t.Fatalf("%s parses as %q, %v", id, parsed, err)
		}
		if seen[id] {
			t.Fatalf("%s drawn twice", id)
		}
		seen[id] = true
	}
}

func TestNewChallengeID_ReportsARandomnessFailure(t *testing.T) {
	if id, err := NewChallengeID(failingRandom{}); err == nil || id != "" {
		t.Fatalf("got %q, %v; want an error and no id", id, err)
	}
}
