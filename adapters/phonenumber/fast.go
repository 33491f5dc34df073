package phonenumber

import (
	"strconv"

	"github.com/nyaruka/phonenumbers"
)

// Bounds the library puts on a national significant number.
const (
	minNSNLength = 2
	maxNSNLength = 17
)

// parseDigits parses what nearly every client sends, a number written in
// digits alone, nationally ("13800138000") or after "+" ("+8613800138000"),
// to the calling code and national significant number of what
// phonenumbers.Parse would return, without Parse's dozen
// regular expressions for punctuation, letters and extensions, which such
// input cannot hold. It declines (ok false) whenever one of Parse's
// rewriting rules could apply: an international or national prefix, the
// region's own calling code written in front of a national number, a
// leading zero, an unusual length. The caller then parses with the library.
// A test and the fuzz target hold its answers to the library's.
func (t *regionTables) parseDigits(raw, defaultRegion string) (cc int32, nsn string, ok bool) {
	digits, plus := raw, false
	if len(raw) > 0 && raw[0] == '+' {
		digits, plus = raw[1:], true
	}
	if len(digits) < 3 || digits[0] == '0' {
		return 0, "", false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, "", false
		}
	}

	var tab *regionTable
	if plus {
		// The calling code is the shortest prefix of up to 3 digits that
		// is one, as the library reads it.
		for i := 1; i <= 3 && i < len(digits); i++ {
			code, _ := strconv.Atoi(digits[:i])
			if len(phonenumbers.GetRegionCodesForCountryCode(code)) > 0 {
				cc, nsn = int32(code), digits[i:]
				break
			}
		}
		if cc == 0 {
			return 0, "", false
		}
		md := t.metadata[phonenumbers.GetRegionCodeForCountryCode(int(cc))]
		if md == nil {
			md = t.nonGeo[cc]
		}
		if md == nil {
			return 0, "", false
		}
		tab = t.table(md)
	} else {
		md := t.metadata[defaultRegion]
		if md == nil {
			return 0, "", false
		}
		tab = t.table(md)
		if tab.idd.MatchString(digits) || len(digits) >= len(tab.countryCode) && digits[:len(tab.countryCode)] == tab.countryCode {
			return 0, "", false
		}
		cc, nsn = md.GetCountryCode(), digits
	}
	if len(nsn) < minNSNLength || len(nsn) > maxNSNLength || nsn[0] == '0' ||
		tab.nationalPrefix != nil && tab.nationalPrefix.MatchString(nsn) {
		return 0, "", false
	}
	return cc, nsn, true
}
