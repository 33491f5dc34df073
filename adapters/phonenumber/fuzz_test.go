package phonenumber

import (
	"errors"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/lemonmall/verifyd/domain"
)

// FuzzParsePhone checks that any input either is refused with
// ErrInvalidPhone or yields an E.164 number that parses back to itself.
func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"13800138000", "+8613800138000", "+86 138-0013-8000", "008613800138000", "8613800138000", "12593138001380", "+12015550123", "+80012345678", "89161234567", "81012015550123", "91123456789",
		"+447400123456", "01012345678", "", "+", "++86", "1380013800\x00", "tel:+8613800138000", "+86１３８００１３８０００"} {
		f.Add(s)
	}
	p, err := NewParser("CN")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		// CN, and regions whose international and national prefixes
		// differ from CN's ("810" and "8" in RU, "00" and "0" in AR).
		for _, region := range []string{"CN", "RU", "AR", "US"} {
			in := strings.TrimSpace(raw)
			cc, nsn, ok := p.types.parseDigits(in, region)
			if !ok {
				continue
			}
			lib, err := phonenumbers.Parse(in, region)
			if err != nil || lib.GetCountryCode() != cc || phonenumbers.GetNationalSignificantNumber(lib) != nsn ||
				lib.GetItalianLeadingZero() || lib.GetExtension() != "" {
				t.Fatalf("parseDigits(%q, %s) = +%d %s, the library says %v, %v", raw, region, cc, nsn, lib, err)
			}
		}
		phone, err := p.ParsePhone(raw)
		if num, perr := phonenumbers.Parse(strings.TrimSpace(raw), "CN"); perr == nil && len(strings.TrimSpace(raw)) <= maxInputLength {
			// The library's verdict, narrowed by the domain's: E.164 allows
			// 15 digits, some numbering plans one more.
			valid := phonenumbers.IsValidNumber(num) && len(phonenumbers.Format(num, phonenumbers.E164)) <= 16
			if valid != (err == nil) {
				t.Fatalf("ParsePhone(%q) error %v, but the library says valid=%v", raw, err, valid)
			}
			if err == nil && (phone.Region() != phonenumbers.GetRegionCodeForNumber(num) || phone.Line() != lineType(phonenumbers.GetNumberType(num))) {
				t.Fatalf("ParsePhone(%q) = %s %v, the library says %s %v", raw, phone.Region(), phone.Line(),
					phonenumbers.GetRegionCodeForNumber(num), phonenumbers.GetNumberType(num))
			}
		}
		if err != nil {
			if !errors.Is(err, domain.ErrInvalidPhone) {
				t.Fatalf("ParsePhone(%q) error %v is not ErrInvalidPhone", raw, err)
			}
			return
		}
		again, err := p.ParsePhone(phone.E164())
		if err != nil || again.E164() != phone.E164() {
			t.Fatalf("ParsePhone(%q) = %s, which parses to %s, %v", raw, phone.E164(), again.E164(), err)
		}
	})
}
