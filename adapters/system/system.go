// Package system provides the real clock and the operating system's
// cryptographic randomness behind the domain's Clock and Random ports.
package system

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
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

// String returns n characters drawn uniformly from alphabet, which holds at
// most 256 characters.
func (Random) String(n int, alphabet string) (string, error) {
	return draw(rand.Reader, n, alphabet)
}

// draw reads random bytes in one batch, not a system call per character,
// and keeps only the bytes below the largest multiple of len(alphabet), so
// that taking them modulo len(alphabet) favours no character.
func draw(src io.Reader, n int, alphabet string) (string, error) {
	if n < 0 || len(alphabet) == 0 || len(alphabet) > 256 {
		return "", errors.New("random: need n >= 0 and an alphabet of 1 to 256 characters")
	}
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	// n plus a margin: a batch is rarely short of usable bytes.
	buf := make([]byte, n+n/2+8)
	for len(out) < n {
		if _, err := io.ReadFull(src, buf); err != nil {
			return "", fmt.Errorf("random: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit {
				out = append(out, alphabet[int(b)%len(alphabet)])
				if len(out) == n {
					break
				}
			}
		}
	}
	return string(out), nil
}
