package application

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/lemonmall/verifyd/domain"
)

func newVerifyRig(t *testing.T) (*VerifySMSCode, *fakeCodes, domain.PhoneNumber) {
	uc, codes, phone, _ := newVerifyRigWithLimiter(t)
	return uc, codes, phone
}

func newVerifyRigWithLimiter(t *testing.T) (*VerifySMSCode, *fakeCodes, domain.PhoneNumber, *fakeLimiter) {
	t.Helper()
	digester, err := domain.NewCodeDigester(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	codes := newFakeCodes()
	phone := testPhone(t)
	codes.m[phone.E164()] = &storedCode{code: domain.NewCode{Digest: digester.Digest(phone, "123456")}}
	limiter := &fakeLimiter{}
	uc, err := NewVerifySMSCode(codes, limiter, &fakeEvents{}, digester, domain.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return uc, codes, phone, limiter
}

func TestVerifySMSCode_ClientOverItsLimitDoesNotSpendAnAttempt(t *testing.T) {
	uc, codes, phone, limiter := newVerifyRigWithLimiter(t)
	limiter.refuse = "verify:ip:"
	err := uc.Handle(t.Context(), VerifySMSCodeInput{Phone: phone, Code: "123456", ClientIP: netip.MustParseAddr("192.0.2.1")})
	if !errors.As(err, new(*domain.ThrottledError)) {
		t.Fatalf("err = %v, want ThrottledError", err)
	}
	if codes.m[phone.E164()].attempts != 0 {
		t.Error("a throttled verification counted an attempt")
	}
}

func TestVerifySMSCode_RightCodeSucceedsOnce(t *testing.T) {
	uc, _, phone := newVerifyRig(t)
	in := VerifySMSCodeInput{Phone: phone, Code: "123456"}
	if err := uc.Handle(t.Context(), in); err != nil {
		t.Fatalf("first verify: %v", err)
	}
	if err := uc.Handle(t.Context(), in); !errors.Is(err, domain.ErrSMSCodeMismatch) {
		t.Fatalf("second verify err = %v, want ErrSMSCodeMismatch", err)
	}
}

func TestVerifySMSCode_FifthTryMayStillSucceed(t *testing.T) {
	uc, _, phone := newVerifyRig(t)
	for range 4 {
		if err := uc.Handle(t.Context(), VerifySMSCodeInput{Phone: phone, Code: "000000"}); !errors.Is(err, domain.ErrSMSCodeMismatch) {
			t.Fatalf("wrong code err = %v", err)
		}
	}
	if err := uc.Handle(t.Context(), VerifySMSCodeInput{Phone: phone, Code: "123456"}); err != nil {
		t.Fatalf("right code on the 5th try: %v", err)
	}
}

func TestVerifySMSCode_FiveWrongTriesBurnTheCode(t *testing.T) {
	uc, _, phone := newVerifyRig(t)
	for range 5 {
		_ = uc.Handle(t.Context(), VerifySMSCodeInput{Phone: phone, Code: "000000"})
	}
	if err := uc.Handle(t.Context(), VerifySMSCodeInput{Phone: phone, Code: "123456"}); !errors.Is(err, domain.ErrSMSCodeMismatch) {
		t.Fatalf("right code after 5 wrong tries err = %v, want ErrSMSCodeMismatch", err)
	}
}

func TestVerifySMSCode_NoCodeLooksLikeAWrongCode(t *testing.T) {
	uc, codes, phone := newVerifyRig(t)
	delete(codes.m, phone.E164())
	if err := uc.Handle(t.Context(), VerifySMSCodeInput{Phone: phone, Code: "123456"}); !errors.Is(err, domain.ErrSMSCodeMismatch) {
		t.Fatalf("err = %v, want ErrSMSCodeMismatch", err)
	}
}

func TestVerifySMSCode_CodeOfAnotherPhoneDoesNotVerify(t *testing.T) {
	uc, codes, phone := newVerifyRig(t)
	other, _ := domain.NewPhoneNumber("+8613900139000", "CN", domain.LineMobile)
	codes.m[other.E164()] = codes.m[phone.E164()] // digest copied across phones
	if err := uc.Handle(t.Context(), VerifySMSCodeInput{Phone: other, Code: "123456"}); !errors.Is(err, domain.ErrSMSCodeMismatch) {
		t.Fatalf("err = %v, want ErrSMSCodeMismatch", err)
	}
}

func TestVerifySMSCode_StoreOutageIsNotAMismatch(t *testing.T) {
	uc, codes, phone := newVerifyRig(t)
	codes.err = domain.ErrStoreUnavailable
	if err := uc.Handle(t.Context(), VerifySMSCodeInput{Phone: phone, Code: "123456"}); !errors.Is(err, domain.ErrStoreUnavailable) {
		t.Fatalf("err = %v, want ErrStoreUnavailable", err)
	}
}
