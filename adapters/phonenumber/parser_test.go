package phonenumber

import (
	"errors"
	"testing"

	"github.com/lemonmall/verifyd/domain"
)

func TestParser_NationalAndInternationalFormsAreTheSamePhone(t *testing.T) {
	p, err := NewParser("CN")
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"13800138000", "+8613800138000", " 138 0013 8000 ", "+86 138-0013-8000", "008613800138000"} {
		got, err := p.ParsePhone(raw)
		if err != nil {
			t.Fatalf("ParsePhone(%q): %v", raw, err)
		}
		if got.E164() != "+8613800138000" || got.Region() != "CN" || got.Line() != domain.LineMobile {
			t.Errorf("ParsePhone(%q) = %s %s %v, want +8613800138000 CN mobile", raw, got.E164(), got.Region(), got.Line())
		}
	}
}

func TestParser_ReportsRegionAndLineTypeOfForeignNumbers(t *testing.T) {
	p, _ := NewParser("CN")
	got, err := p.ParsePhone("+447400123456")
	if err != nil {
		t.Fatal(err)
	}
	if got.Region() != "GB" || got.Line() != domain.LineMobile {
		t.Errorf("got %s %v, want GB mobile", got.Region(), got.Line())
	}
	fixed, err := p.ParsePhone("+861012345678")
	if err != nil {
		t.Fatal(err)
	}
	if fixed.Line() != domain.LineFixed {
		t.Errorf("Beijing landline has line type %v, want fixed", fixed.Line())
	}
}

func TestParser_RejectsWhatIsNotAValidNumber(t *testing.T) {
	p, _ := NewParser("CN")
	for _, raw := range []string{"", "abc", "123", "1380013800", "+86138001380001234", "+0123", "１３８００１３８０００x", "13800138000000000000000000000000000000"} {
		if _, err := p.ParsePhone(raw); !errors.Is(err, domain.ErrInvalidPhone) {
			t.Errorf("ParsePhone(%q) err = %v, want ErrInvalidPhone", raw, err)
		}
	}
}

func TestNewParser_RefusesUnknownRegion(t *testing.T) {
	for _, r := range []string{"", "XX", "china"} {
		if _, err := NewParser(r); err == nil {
			t.Errorf("NewParser(%q) accepted an unknown region", r)
		}
	}
	if _, err := NewParser("us"); err != nil {
		t.Errorf("lower-case region refused: %v", err)
	}
}
