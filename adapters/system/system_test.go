package system

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lemonmall/verifyd/domain"
)

func TestRandom_StringUsesOnlyAlphabetAndCoversIt(t *testing.T) {
	seen := map[rune]int{}
	for range 2000 {
		s, err := Random{}.String(6, domain.Digits)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 6 {
			t.Fatalf("len(%q) = %d, want 6", s, len(s))
		}
		for _, r := range s {
			if !strings.ContainsRune(domain.Digits, r) {
				t.Fatalf("%q has %q outside the alphabet", s, r)
			}
			seen[r]++
		}
	}
	// 12000 draws over 10 digits: every digit appears, none dominates.
	for _, r := range domain.Digits {
		if seen[r] < 900 || seen[r] > 1500 {
			t.Errorf("digit %q drawn %d times out of 12000", r, seen[r])
		}
	}
}

func TestRandom_StringRefusesEmptyAlphabet(t *testing.T) {
	if _, err := (Random{}).String(4, ""); err == nil {
		t.Fatal("want an error for an empty alphabet")
	}
}

// A byte at or above the largest multiple of the alphabet's length would
// make the first characters likelier; such bytes are skipped, not folded.
func TestRandom_DrawSkipsBytesThatWouldBiasTheDraw(t *testing.T) {
	alphabet := "0123456789abcdefghijklmnopqrstuvwxyz" // 36: 252..255 are biased
	src := bytes.NewReader(append([]byte{252, 253, 254, 255, 0, 35, 251, 37}, make([]byte, 64)...))
	got, err := draw(src, 4, alphabet)
	if err != nil {
		t.Fatal(err)
	}
	// 0 → '0', 35 → 'z', 251 = 6·36+35 → 'z', 37 → '1'.
	if got != "0zz1" {
		t.Errorf("draw = %q, want 0zz1", got)
	}
}

func TestRandom_DrawReportsAFailingSource(t *testing.T) {
	if _, err := draw(bytes.NewReader([]byte{1, 2}), 6, domain.Digits); err == nil {
		t.Fatal("want an error when the source runs dry")
	}
}

func TestRandom_StringRefusesAnAlphabetLongerThanAByte(t *testing.T) {
	if _, err := (Random{}).String(4, strings.Repeat("a", 257)); err == nil {
		t.Fatal("want an error for 257 characters")
	}
}
