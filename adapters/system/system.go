// Package system provides the real clock and the operating system's
// cryptographic randomness behind the domain's Clock and Random ports.
package system

import (
	"crypto/rand"
	"errors"
	"math/big"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// Clock is the wall clock.
type Clock struct{}

var _ domain.Clock = Clock{}

// Now returns time.Now.
func (Clock) Now() time.Time { return time.Now() }

// Random draws from crypto/rand, so captcha answers and SMS codes cannot be
// predicted from earlier ones (the seed used Python's random module).
type Random struct{}

var _ domain.Random = Random{}

// String returns n characters drawn uniformly from alphabet.
func (Random) String(n int, alphabet string) (string, error) {
	if n < 0 || len(alphabet) == 0 {
		return "", errors.New("random: need n >= 0 and a non-empty alphabet")
	}
	max := big.NewInt(int64(len(alphabet)))
	out := make([]byte, n)
	for i := range out {
		// rand.Int rejects out-of-range samples, so there is no modulo bias.
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out), nil
}
