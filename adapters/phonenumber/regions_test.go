package phonenumber

import (
	"slices"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// The compiled tables must say of every number what the library says:
// valid or not, which region, which type. The numbers are every region's
// example of every type (and every non-geographic calling code's), each
// with digits changed at both ends and one digit added or dropped, so
// invalid numbers and the regions that share a calling code (+1, +7, +44)
// are covered as well as valid ones.
func TestRegionTables_TypeNumbersAsTheLibraryDoes(t *testing.T) {
	tables, err := newRegionTables()
	if err != nil {
		t.Fatal(err)
	}
	examples := exampleNumbers(t)

	checked, valid := 0, 0
	for _, ex := range examples {
		for _, nsn := range variants(phonenumbers.GetNationalSignificantNumber(ex)) {
			e164 := "+" + strconv.Itoa(int(ex.GetCountryCode())) + nsn
			num, err := phonenumbers.Parse(e164, "ZZ")
			if err != nil {
				continue
			}
			wantRegion, wantType := phonenumbers.GetRegionCodeForNumber(num), phonenumbers.GetNumberType(num)
			gotRegion, gotType := tables.classify(num.GetCountryCode(), phonenumbers.GetNationalSignificantNumber(num))
			if gotType != wantType || (wantType != phonenumbers.UNKNOWN && gotRegion != wantRegion) {
				t.Errorf("%s: got %s type %d, the library says %s type %d", e164, gotRegion, gotType, wantRegion, wantType)
			}
			checked++
			if wantType != phonenumbers.UNKNOWN {
				valid++
			}
		}
	}
	if valid < len(examples) || checked-valid < len(examples) {
		t.Errorf("checked %d numbers of which %d valid: want at least %d of each", checked, valid, len(examples))
	}
}

// variants returns nsn and numbers near it: the first and last digits
// changed, one digit added and one dropped.
func variants(nsn string) []string {
	out := []string{nsn, nsn + "0", nsn[:len(nsn)-1]}
	for _, i := range []int{0, 1, len(nsn) - 2, len(nsn) - 1} {
		if i < 0 || i >= len(nsn) {
			continue
		}
		for _, delta := range []byte{1, 5} {
			b := []byte(nsn)
			b[i] = '0' + (b[i]-'0'+delta)%10
			out = append(out, string(b))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
