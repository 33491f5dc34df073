package phonenumber

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// nonGeoRegion is the library's region for calling codes that belong to no
// territory (+800, +882, …).
const nonGeoRegion = "001"

// regionTables answers what phonenumbers.GetRegionCodeForNumber and
// GetNumberType answer, by the library's own rules and metadata, from
// patterns compiled once per region. The library, on every call, builds each
// pattern's string, looks it up in a locked cache and matches it twice, for
// up to a dozen patterns; validating, locating and typing one number cost
// more CPU than the rest of an SMS request's own work. A test holds the two
// to the same answers.
type regionTables struct {
	metadata map[string]*phonenumbers.PhoneMetadata // by region
	nonGeo   map[int32]*phonenumbers.PhoneMetadata  // by calling code
	compiled sync.Map                               // *phonenumbers.PhoneMetadata → *regionTable
}

func newRegionTables() (*regionTables, error) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil, fmt.Errorf("phone number metadata: %w", err)
	}
	t := &regionTables{
		metadata: make(map[string]*phonenumbers.PhoneMetadata, len(coll.GetMetadata())),
		nonGeo:   make(map[int32]*phonenumbers.PhoneMetadata),
	}
	for _, md := range coll.GetMetadata() {
		if md.GetId() == nonGeoRegion {
			t.nonGeo[md.GetCountryCode()] = md
		} else {
			t.metadata[md.GetId()] = md
		}
	}
	return t, nil
}

// classify returns the region and the type of the number with calling code
// cc and national significant number nsn: "" and UNKNOWN for a number no region's
// patterns accept.
func (t *regionTables) classify(cc int32, nsn string) (string, phonenumbers.PhoneNumberType) {
	region := t.region(cc, nsn)
	md := t.metadata[region]
	if region == nonGeoRegion {
		md = t.nonGeo[cc]
	}
	if md == nil {
		return region, phonenumbers.UNKNOWN
	}
	return region, t.table(md).kind(nsn)
}

// region is GetRegionCodeForNumber: the only region of the calling code or,
// when several share it, the first whose leading digits (or, lacking
// those, whose patterns) match.
func (t *regionTables) region(cc int32, nsn string) string {
	regions := phonenumbers.GetRegionCodesForCountryCode(int(cc))
	switch len(regions) {
	case 0:
		return ""
	case 1:
		return regions[0]
	}
	for _, r := range regions {
		md := t.metadata[r]
		if md == nil {
			continue
		}
		tab := t.table(md)
		if tab.leading != nil {
			if tab.leading.MatchString(nsn) {
				return r
			}
		} else if tab.kind(nsn) != phonenumbers.UNKNOWN {
			return r
		}
	}
	return ""
}

func (t *regionTables) table(md *phonenumbers.PhoneMetadata) *regionTable {
	if tab, ok := t.compiled.Load(md); ok {
		return tab.(*regionTable)
	}
	tab, _ := t.compiled.LoadOrStore(md, compileTable(md))
	return tab.(*regionTable)
}

// regionTable is one region's compiled patterns.
type regionTable struct {
	leading *regexp.Regexp // nil when the region has no leading digits
	// idd and nationalPrefix match, at the start of a number, what the
	// library's parser would strip as an international or a national
	// prefix (fast.go); the empty pattern matches everything.
	idd, nationalPrefix    *regexp.Regexp
	countryCode            string
	general, fixed, mobile pattern
	// special are the types checked before fixed line and mobile, in the
	// library's order.
	special            []typedPattern
	sameMobileAndFixed bool
}

type typedPattern struct {
	kind phonenumbers.PhoneNumberType
	pattern
}

// pattern is a PhoneNumberDesc: the possible lengths, when listed, then the
// whole number against the national number pattern.
type pattern struct {
	lengths []int32
	re      *regexp.Regexp
}

func compileTable(md *phonenumbers.PhoneMetadata) *regionTable {
	tab := &regionTable{
		general:            compilePattern(md.GetGeneralDesc()),
		fixed:              compilePattern(md.GetFixedLine()),
		mobile:             compilePattern(md.GetMobile()),
		sameMobileAndFixed: md.GetSameMobileAndFixedLinePattern(),
		idd:                regexp.MustCompile("^(?:" + md.GetInternationalPrefix() + ")"),
		countryCode:        strconv.Itoa(int(md.GetCountryCode())),
	}
	if np := md.GetNationalPrefixForParsing(); np != "" {
		tab.nationalPrefix = regexp.MustCompile("^(?:" + np + ")")
	}
	if ld := md.GetLeadingDigits(); ld != "" {
		tab.leading = regexp.MustCompile("^(?:" + ld + ")")
	}
	for _, s := range []struct {
		kind phonenumbers.PhoneNumberType
		desc *phonenumbers.PhoneNumberDesc
	}{
		{phonenumbers.PREMIUM_RATE, md.GetPremiumRate()},
		{phonenumbers.TOLL_FREE, md.GetTollFree()},
		{phonenumbers.SHARED_COST, md.GetSharedCost()},
		{phonenumbers.VOIP, md.GetVoip()},
		{phonenumbers.PERSONAL_NUMBER, md.GetPersonalNumber()},
		{phonenumbers.PAGER, md.GetPager()},
		{phonenumbers.UAN, md.GetUan()},
		{phonenumbers.VOICEMAIL, md.GetVoicemail()},
	} {
		tab.special = append(tab.special, typedPattern{s.kind, compilePattern(s.desc)})
	}
	return tab
}

// compilePattern compiles a description as the library matches it; a
// missing one has the empty pattern, which no number matches.
func compilePattern(d *phonenumbers.PhoneNumberDesc) pattern {
	return pattern{
		lengths: d.GetPossibleLength(),
		re:      regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$"),
	}
}

func (p pattern) matches(nsn string) bool {
	if len(p.lengths) > 0 && !slices.Contains(p.lengths, int32(len(nsn))) {
		return false
	}
	return p.re.MatchString(nsn)
}

// kind is getNumberTypeHelper.
func (tab *regionTable) kind(nsn string) phonenumbers.PhoneNumberType {
	if !tab.general.matches(nsn) {
		return phonenumbers.UNKNOWN
	}
	for _, s := range tab.special {
		if s.matches(nsn) {
			return s.kind
		}
	}
	if tab.fixed.matches(nsn) {
		if tab.sameMobileAndFixed || tab.mobile.matches(nsn) {
			return phonenumbers.FIXED_LINE_OR_MOBILE
		}
		return phonenumbers.FIXED_LINE
	}
	if !tab.sameMobileAndFixed && tab.mobile.matches(nsn) {
		return phonenumbers.MOBILE
	}
	return phonenumbers.UNKNOWN
}
