// Package phonenumber parses user-typed phone numbers by the rules and data
// of github.com/nyaruka/phonenumbers, a port of Google's libphonenumber. The
// common inputs (digits alone, national or after "+") take a shorter path to
// the same answers, and numbers are typed from patterns compiled once per
// region; tests and a fuzz target hold both to the library's answers.
package phonenumber

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/lemonmall/verifyd/domain"
)

// maxInputLength bounds what is handed to the parser: no valid number written
// by a person is longer, and the parser's work grows with its input.
const maxInputLength = 32

// Parser normalises numbers to E.164, reading national numbers in its default
// region, so "13800138000" and "+8613800138000" are the same phone in CN.
type Parser struct {
	defaultRegion string
	types         *regionTables
}

var _ domain.PhoneParser = (*Parser)(nil)

// NewParser returns a parser for defaultRegion, an ISO 3166-1 alpha-2 code
// that the numbering plan data knows.
func NewParser(defaultRegion string) (*Parser, error) {
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	if !IsKnownRegion(region) {
		return nil, fmt.Errorf("unknown region %q: want an ISO 3166-1 alpha-2 code such as CN or US", defaultRegion)
	}
	types, err := newRegionTables()
	if err != nil {
		return nil, err
	}
	// The default region's numbers are most of the traffic: compile its
	// patterns now rather than under the first request.
	types.table(types.metadata[region])
	return &Parser{defaultRegion: region, types: types}, nil
}

// IsKnownRegion reports whether region has numbering plan data.
func IsKnownRegion(region string) bool {
	return phonenumbers.GetSupportedRegions()[region]
}

// ParsePhone returns domain.ErrInvalidPhone for anything that is not a valid
// number in its region's numbering plan.
func (p *Parser) ParsePhone(raw string) (domain.PhoneNumber, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxInputLength {
		return domain.PhoneNumber{}, domain.ErrInvalidPhone
	}
	cc, nsn, ok := p.types.parseDigits(raw, p.defaultRegion)
	if !ok {
		num, err := phonenumbers.Parse(raw, p.defaultRegion)
		if err != nil {
			return domain.PhoneNumber{}, domain.ErrInvalidPhone
		}
		cc, nsn = num.GetCountryCode(), phonenumbers.GetNationalSignificantNumber(num)
	}
	// A number is valid exactly when it has a type (IsValidNumber is
	// GetNumberType != UNKNOWN), so the type, found once, decides both.
	region, kind := p.types.classify(cc, nsn)
	if kind == phonenumbers.UNKNOWN {
		return domain.PhoneNumber{}, domain.ErrInvalidPhone
	}
	// E.164 is "+", the calling code and the national significant number,
	// as phonenumbers.Format writes it.
	return domain.NewPhoneNumber("+"+strconv.Itoa(int(cc))+nsn, region, lineType(kind))
}

func lineType(t phonenumbers.PhoneNumberType) domain.LineType {
	switch t {
	case phonenumbers.MOBILE:
		return domain.LineMobile
	case phonenumbers.FIXED_LINE_OR_MOBILE:
		return domain.LineFixedOrMobile
	case phonenumbers.FIXED_LINE:
		return domain.LineFixed
	case phonenumbers.TOLL_FREE:
		return domain.LineTollFree
	case phonenumbers.PREMIUM_RATE:
		return domain.LinePremiumRate
	case phonenumbers.VOIP:
		return domain.LineVoIP
	case phonenumbers.UNKNOWN:
		return domain.LineUnknown
	}
	return domain.LineOther
}
