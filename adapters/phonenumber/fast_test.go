package phonenumber

import (
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// parseDigits must return what the library's Parse returns whenever it
// answers at all. The inputs are every region's example numbers written
// after "+", nationally in their own region and in eight others, with the
// region's calling code or its way of dialling abroad in front, and with digits
// changed, added and dropped.
func TestParseDigits_AgreesWithTheLibrary(t *testing.T) {
	tables, err := newRegionTables()
	if err != nil {
		t.Fatal(err)
	}
	others := []string{"CN", "US", "GB", "DE", "IT", "RU", "BR", "IN"}
	checked, fast := 0, 0
	check := func(raw, region string) {
		t.Helper()
		checked++
		cc, nsn, ok := tables.parseDigits(raw, region)
		if !ok {
			return
		}
		fast++
		want, err := phonenumbers.Parse(raw, region)
		switch {
		case err != nil:
			t.Errorf("parseDigits(%q, %s) = +%d %s, the library refuses it: %v", raw, region, cc, nsn, err)
		case cc != want.GetCountryCode() || nsn != phonenumbers.GetNationalSignificantNumber(want) ||
			want.GetItalianLeadingZero() || want.GetExtension() != "":
			t.Errorf("parseDigits(%q, %s) = +%d %s, the library says +%d %d (leading zero %v, extension %q)", raw, region,
				cc, nsn, want.GetCountryCode(), want.GetNationalNumber(),
				want.GetItalianLeadingZero(), want.GetExtension())
		}
	}
	for _, ex := range exampleNumbers(t) {
		region := phonenumbers.GetRegionCodeForNumber(ex)
		cc := strconv.Itoa(int(ex.GetCountryCode()))
		nsn := phonenumbers.GetNationalSignificantNumber(ex)
		for _, v := range variants(nsn) {
			check("+"+cc+v, "ZZ")
			if region != "" && region != nonGeoRegion {
				check(v, region)
				check(cc+v, region)
				check(internationalPrefix(tables, region)+cc+v, region)
			}
		}
		for _, other := range others {
			check(nsn, other)
		}
	}
	if fast < checked/3 {
		t.Errorf("only %d of %d numbers took the fast path: it is not being tested", fast, checked)
	}
	t.Logf("%d numbers, %d parsed by parseDigits", checked, fast)
}

// internationalPrefix is how a caller in region dials abroad: its preferred
// prefix, or its only one ("00", "011", "810", …).
func internationalPrefix(tables *regionTables, region string) string {
	md := tables.metadata[region]
	if p := md.GetPreferredInternationalPrefix(); p != "" {
		return strings.ReplaceAll(p, "~", "")
	}
	if _, err := strconv.Atoi(md.GetInternationalPrefix()); err == nil {
		return md.GetInternationalPrefix()
	}
	return "00"
}

// exampleNumbers returns every region's example of every type and every
// non-geographic calling code's example.
func exampleNumbers(t *testing.T) []*phonenumbers.PhoneNumber {
	t.Helper()
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}
	var out []*phonenumbers.PhoneNumber
	regions := phonenumbers.GetSupportedRegions()
	for region := range regions {
		for _, typ := range types {
			if ex := phonenumbers.GetExampleNumberForType(region, typ); ex != nil {
				out = append(out, ex)
			}
		}
	}
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		if ex := phonenumbers.GetExampleNumberForNonGeoEntity(cc); ex != nil {
			out = append(out, ex)
		}
	}
	if len(regions) < 200 || len(out) < 1000 {
		t.Fatalf("only %d regions and %d examples: the metadata did not load", len(regions), len(out))
	}
	return out
}
