package system

import (
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
