package domain

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// The parsers below see raw client input; the fuzz targets check that they
// never panic and that whatever they accept is in canonical form.

func FuzzParseChallengeID(f *testing.F) {
	for _, s := range []string{"0f8fad5b-d9cb-469f-a165-70867728950e", "0F8FAD5B-D9CB-469F-A165-70867728950E", "", "x", "../../etc/passwd", "0f8fad5b-d9cb-469f-c165-70867728950e\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		id, err := ParseChallengeID(raw)
		if err != nil {
			var invalid *InvalidInputError
			if !errors.As(err, &invalid) {
				t.Fatalf("error %v is not an InvalidInputError", err)
			}
			return
		}
		if len(id) != 36 || strings.ToLower(string(id)) != string(id) {
			t.Fatalf("accepted %q as %q", raw, id)
		}
		if again, err := ParseChallengeID(string(id)); err != nil || again != id {
			t.Fatalf("canonical %q does not parse to itself: %q %v", id, again, err)
		}
	})
}

func FuzzParseSMSCode(f *testing.F) {
	for _, s := range []string{"123456", " 000000 ", "12345", "1234567", "١٢٣٤٥٦", "12345\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := ParseSMSCode(raw)
		if err != nil {
			return
		}
		if len(c) != SMSCodeLength || strings.Trim(string(c), Digits) != "" {
			t.Fatalf("accepted %q as %q", raw, c)
		}
	})
}

func FuzzParseImageCode(f *testing.F) {
	for _, s := range []string{"ab3k", "  AB3K ", "", strings.Repeat("a", 17), "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := ParseImageCode(raw)
		if err != nil {
			return
		}
		if c == "" || len(c) > MaxImageCodeLength || strings.TrimSpace(c) != c {
			t.Fatalf("accepted %q as %q", raw, c)
		}
	})
}

func FuzzNewPhoneNumber(f *testing.F) {
	for _, s := range []string{"+8613800138000", "+", "+0", "8613800138000", "+1234567890123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := NewPhoneNumber(raw, "CN", LineMobile)
		if err != nil {
			return
		}
		if p.E164() != raw || !utf8.ValidString(p.String()) || (len(raw) > 8 && strings.Contains(p.String(), raw[:len(raw)-4])) {
			t.Fatalf("accepted %q as %q (%s)", raw, p.E164(), p)
		}
	})
}
