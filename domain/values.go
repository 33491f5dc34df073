package domain

import (
	"strings"
)

// ChallengeID identifies one captcha challenge. Clients generate it (the seed's
// page uses a UUID per image) so it must be validated like any client input.
type ChallengeID string

// ParseChallengeID accepts a 36-character RFC 4122 UUID in any letter case and
// returns it lower-cased, so that "ABC…" and "abc…" name the same challenge.
func ParseChallengeID(raw string) (ChallengeID, error) {
	if raw == "" {
		return "", &InvalidInputError{Field: "uuid", Reason: ReasonRequired}
	}
	if len(raw) != 36 {
		return "", &InvalidInputError{Field: "uuid", Reason: "must be a 36-character UUID"}
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", &InvalidInputError{Field: "uuid", Reason: "must be a 36-character UUID"}
			}
		default:
			if !isHex(c) {
				return "", &InvalidInputError{Field: "uuid", Reason: "must be a 36-character UUID"}
			}
		}
	}
	// RFC 4122 variant: the first character of the fourth group is 8, 9, a or b.
	switch raw[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
	default:
		return "", &InvalidInputError{Field: "uuid", Reason: "must be an RFC 4122 UUID"}
	}
	return ChallengeID(strings.ToLower(raw)), nil
}

func (id ChallengeID) String() string { return string(id) }

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// MaxImageCodeLength bounds the captcha answer a client may send; anything
// longer cannot be right and is rejected before it reaches the store.
const MaxImageCodeLength = 16

// ParseImageCode checks a client's captcha answer for shape only: whether it is
// right is decided against the stored answer.
func ParseImageCode(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", &InvalidInputError{Field: "image_code", Reason: ReasonRequired}
	}
	if len(raw) > MaxImageCodeLength {
		return "", &InvalidInputError{Field: "image_code", Reason: "is too long"}
	}
	return raw, nil
}

// SMSCodeLength is the number of digits in an SMS one-time code.
const SMSCodeLength = 6

// SMSCode is a one-time code as sent by SMS: exactly six ASCII digits.
type SMSCode string

// ParseSMSCode accepts exactly six ASCII digits, surrounding spaces ignored.
func ParseSMSCode(raw string) (SMSCode, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", &InvalidInputError{Field: "sms_code", Reason: ReasonRequired}
	}
	if len(raw) != SMSCodeLength {
		return "", &InvalidInputError{Field: "sms_code", Reason: "must be 6 digits"}
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return "", &InvalidInputError{Field: "sms_code", Reason: "must be 6 digits"}
		}
	}
	return SMSCode(raw), nil
}

// LineType is the kind of line a phone number belongs to, as far as the
// numbering plan tells.
type LineType int

// Line types known to verifyd. LineUnknown is the zero value.
const (
	LineUnknown LineType = iota
	LineMobile
	// LineFixedOrMobile is what numbering plans say where both share ranges
	// (the United States, for one).
	LineFixedOrMobile
	LineFixed
	LineTollFree
	LinePremiumRate
	LineVoIP
	LineOther
)

// CanReceiveSMS reports whether numbers of this type are expected to take a
// text message; premium-rate and fixed lines are where SMS pumping fraud sends
// traffic.
func (t LineType) CanReceiveSMS() bool {
	return t == LineMobile || t == LineFixedOrMobile
}

// PhoneNumber is a phone number in E.164 form together with the region and
// line type its numbering plan assigns. Build it with a PhoneParser or
// NewPhoneNumber; the zero value is not a valid number.
type PhoneNumber struct {
	e164   string
	region string
	line   LineType
}

// NewPhoneNumber builds a PhoneNumber from an already normalised E.164 string
// ("+" then 2 to 15 digits, no leading zero). Region and line type are
// informational and may be empty or LineUnknown.
func NewPhoneNumber(e164, region string, line LineType) (PhoneNumber, error) {
	if !isE164(e164) {
		return PhoneNumber{}, ErrInvalidPhone
	}
	return PhoneNumber{e164: e164, region: strings.ToUpper(region), line: line}, nil
}

func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// E164 returns the number as "+" followed by country code and number.
func (p PhoneNumber) E164() string { return p.e164 }

// Region is the ISO 3166-1 alpha-2 region of the number, if known.
func (p PhoneNumber) Region() string { return p.region }

// Line is the line type of the number, if known.
func (p PhoneNumber) Line() LineType { return p.line }

// IsZero reports whether p was never set.
func (p PhoneNumber) IsZero() bool { return p.e164 == "" }

// String returns the number with all but its last four digits masked, so a
// PhoneNumber that slips into a log line does not leak the whole number.
func (p PhoneNumber) String() string { return MaskPhone(p.e164) }

// MaskPhone hides all but the last four digits of a number.
func MaskPhone(e164 string) string {
	if len(e164) <= 4 {
		return strings.Repeat("*", len(e164))
	}
	return strings.Repeat("*", len(e164)-4) + e164[len(e164)-4:]
}

// Language is the base language a user reads, as a lower-case BCP 47
// subtag. The domain only carries it from the request to the SMS sender:
// which texts exist in which language is the business of the adapters that
// speak to users.
type Language string

// The languages verifyd speaks. The zero Language means "the configured
// default", which adapters resolve.
const (
	English Language = "en"
	Chinese Language = "zh"
)
