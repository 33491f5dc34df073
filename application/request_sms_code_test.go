package application

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func testPhone(t *testing.T) domain.PhoneNumber {
	t.Helper()
	p, err := domain.NewPhoneNumber("+8613800138000", "CN", domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type requestRig struct {
	uc         *RequestSMSCode
	challenges *fakeChallenges
	codes      *fakeCodes
	outbox     *fakeOutbox
	digester   *domain.CodeDigester
	limiter    *fakeLimiter
	events     *fakeEvents
	now        time.Time
}

func newRequestRig(t *testing.T, random ...string) *requestRig {
	t.Helper()
	return newRequestRigWith(t, domain.DefaultPolicy(), random...)
}

func newRequestRigWith(t *testing.T, policy domain.Policy, random ...string) *requestRig {
	t.Helper()
	r := &requestRig{challenges: newFakeChallenges(), codes: newFakeCodes(), outbox: &fakeOutbox{}, limiter: &fakeLimiter{},
		events: &fakeEvents{}, now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	var err error
	r.digester, err = domain.NewCodeDigester(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	r.uc, err = NewRequestSMSCode(r.challenges, r.codes, r.outbox, r.limiter, r.events, r.digester,
		&scriptedRandom{next: random}, &fixedClock{now: r.now}, policy)
	if err != nil {
		t.Fatal(err)
	}
	r.challenges.m[testUUID] = savedChallenge{answer: "ab3k", ttl: time.Minute}
	return r
}

const msgID = "m0000000000000000001"

func TestRequestSMSCode_RightCaptchaSendsTheCodeAndStoresOnlyItsDigest(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	phone := testPhone(t)
	err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: phone, ChallengeID: testUUID, ImageCode: "AB3k", Lang: domain.Chinese})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.outbox.sent) != 1 {
		t.Fatalf("outbox got %d messages, want 1", len(r.outbox.sent))
	}
	msg := r.outbox.sent[0]
	if msg.Code != "123456" || msg.To != phone || msg.ID != msgID || msg.Lang != domain.Chinese {
		t.Errorf("message code %q to %s id %s lang %q, want 123456 to %s in zh", msg.Code, msg.To.E164(), msg.ID, msg.Lang, phone.E164())
	}
	if !msg.CreatedAt.Equal(r.now) || msg.Lifetime() != 300*time.Second {
		t.Errorf("created at %v, lifetime %v; want now and 300s", msg.CreatedAt, msg.Lifetime())
	}
	stored := r.codes.m[phone.E164()].code
	if string(stored.Digest) != string(r.digester.Digest(phone, "123456")) {
		t.Error("stored digest is not the HMAC of the sent code")
	}
	if strings.Contains(string(stored.Digest), "123456") {
		t.Error("the plain code is stored")
	}
	if stored.TTL != 300*time.Second || stored.ResendInterval != 60*time.Second {
		t.Errorf("ttl %v interval %v, want 300s and 60s", stored.TTL, stored.ResendInterval)
	}
}

func TestRequestSMSCode_CaptchaIsSingleUse(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	in := RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: "ab3k"}
	if err := r.uc.Handle(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	// Another phone, so only the captcha can refuse.
	in.Phone, _ = domain.NewPhoneNumber("+8613900139000", "CN", domain.LineMobile)
	if err := r.uc.Handle(t.Context(), in); !errors.Is(err, domain.ErrImageCodeExpired) {
		t.Fatalf("second use err = %v, want ErrImageCodeExpired", err)
	}
}

func TestRequestSMSCode_WrongCaptchaIsSpentAndNeverClaimsTheSendSlot(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: "zzzz"})
	if !errors.Is(err, domain.ErrImageCodeMismatch) || errors.Is(err, domain.ErrImageCodeExpired) {
		t.Fatalf("err = %v, want ErrImageCodeMismatch for a wrong answer, not ErrImageCodeExpired", err)
	}
	if r.codes.issued != 0 || len(r.outbox.sent) != 0 {
		t.Errorf("wrong captcha issued %d codes and sent %d messages", r.codes.issued, len(r.outbox.sent))
	}
	if _, ok := r.challenges.m[testUUID]; ok {
		t.Error("wrong answer left the challenge usable for another guess")
	}
}

func TestRequestSMSCode_UnknownChallengeIsAnImageCodeError(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t),
		ChallengeID: "11111111-1111-4111-8111-111111111111", ImageCode: "ab3k"})
	if !errors.Is(err, domain.ErrImageCodeExpired) || !errors.Is(err, domain.ErrImageCodeMismatch) {
		t.Fatalf("err = %v, want ErrImageCodeExpired, a kind of ErrImageCodeMismatch", err)
	}
}

func TestRequestSMSCode_ThrottledPhoneGetsRetryAfterAndNoMessage(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	r.codes.throttled["+8613800138000"] = true
	err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: "ab3k"})
	var te *domain.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter != 42*time.Second {
		t.Fatalf("err = %v, want ThrottledError with the store's RetryAfter", err)
	}
	if len(r.outbox.sent) != 0 {
		t.Error("a throttled request sent a message")
	}
}

func TestRequestSMSCode_FailuresBelowAreReportedWrapped(t *testing.T) {
	for name, breakIt := range map[string]func(*requestRig){
		"challenge store": func(r *requestRig) { r.challenges.err = domain.ErrStoreUnavailable },
		"code store":      func(r *requestRig) { r.codes.err = domain.ErrStoreUnavailable },
		"outbox":          func(r *requestRig) { r.outbox.err = domain.ErrStoreUnavailable },
	} {
		t.Run(name, func(t *testing.T) {
			r := newRequestRig(t, "123456", msgID)
			breakIt(r)
			err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: "ab3k"})
			if !errors.Is(err, domain.ErrStoreUnavailable) {
				t.Fatalf("err = %v, want it to wrap ErrStoreUnavailable", err)
			}
		})
	}
}

func TestRequestSMSCode_RefusesMissingInput(t *testing.T) {
	r := newRequestRig(t)
	var invalid *domain.InvalidInputError
	if err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ImageCode: "ab3k"}); !errors.As(err, &invalid) || invalid.Field != "uuid" {
		t.Errorf("missing uuid: %v", err)
	}
	if err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID}); !errors.As(err, &invalid) || invalid.Field != "image_code" {
		t.Errorf("missing image code: %v", err)
	}
	if err := r.uc.Handle(t.Context(), RequestSMSCodeInput{ChallengeID: testUUID, ImageCode: "ab3k"}); !errors.Is(err, domain.ErrInvalidPhone) {
		t.Errorf("missing phone: %v", err)
	}
}

var clientIP = netip.MustParseAddr("198.51.100.20")

func TestRequestSMSCode_NumbersOutsideTheAllowedRegionsOrNotMobileAreInvalid(t *testing.T) {
	gb, _ := domain.NewPhoneNumber("+447400123456", "GB", domain.LineMobile)
	landline, _ := domain.NewPhoneNumber("+861012345678", "CN", domain.LineFixed)
	premium, _ := domain.NewPhoneNumber("+8616812345678", "CN", domain.LinePremiumRate)
	for name, phone := range map[string]domain.PhoneNumber{"other region": gb, "landline": landline, "premium rate": premium} {
		t.Run(name, func(t *testing.T) {
			p := domain.DefaultPolicy()
			p.Limits.SMSRegions = []string{"CN"}
			r := newRequestRigWith(t, p, "123456", msgID)
			err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: phone, ChallengeID: testUUID, ImageCode: "ab3k", ClientIP: clientIP})
			if !errors.Is(err, domain.ErrInvalidPhone) {
				t.Fatalf("err = %v, want ErrInvalidPhone", err)
			}
			if _, ok := r.challenges.m[testUUID]; !ok {
				t.Error("a refused number spent the captcha")
			}
		})
	}
}

func TestRequestSMSCode_ClientOverItsLimitKeepsItsCaptcha(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	r.limiter.refuse = "sms:ip:"
	err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: "ab3k", ClientIP: clientIP})
	if !errors.As(err, new(*domain.ThrottledError)) {
		t.Fatalf("err = %v, want ThrottledError", err)
	}
	if _, ok := r.challenges.m[testUUID]; !ok || r.codes.issued != 0 {
		t.Error("a throttled client spent the captcha or got a code")
	}
}

func TestRequestSMSCode_GlobalBudgetRefusalKeepsThePhonesLiveCode(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	phone := testPhone(t)
	// A code sent 61 s ago: still valid, its resend interval over.
	live := r.digester.Digest(phone, "654321")
	r.codes.m[phone.E164()] = &storedCode{code: domain.NewCode{Digest: live}}
	r.limiter.refuse = "sms:global"
	err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: phone, ChallengeID: testUUID, ImageCode: "ab3k", ClientIP: clientIP})
	if !errors.As(err, new(*domain.ThrottledError)) {
		t.Fatalf("err = %v, want ThrottledError", err)
	}
	if len(r.outbox.sent) != 0 || r.codes.issued != 0 || r.codes.throttled[phone.E164()] {
		t.Error("a request over the global budget issued or sent a code, or took the phone's slot")
	}
	if c := r.codes.m[phone.E164()]; c == nil || string(c.code.Digest) != string(live) {
		t.Error("a request over the global budget replaced the phone's live code")
	}
	if _, ok := r.challenges.m[testUUID]; !ok {
		t.Error("a request refused by the spent budget spent the captcha")
	}
}

func TestRequestSMSCode_BudgetRefusalKeepsTheCaptchaForTheRetry(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	in := RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: "ab3k", ClientIP: clientIP}
	r.limiter.refuse = "sms:global"
	if err := r.uc.Handle(t.Context(), in); !errors.As(err, new(*domain.ThrottledError)) {
		t.Fatalf("err = %v, want ThrottledError", err)
	}
	// The budget has room again: the captcha still on the user's screen works.
	r.limiter.refuse = ""
	if err := r.uc.Handle(t.Context(), in); err != nil {
		t.Fatalf("retry with the same captcha: %v", err)
	}
	if len(r.outbox.sent) != 1 {
		t.Errorf("%d messages sent, want 1", len(r.outbox.sent))
	}
}

func TestRequestSMSCode_BudgetSpentAfterTheCheckStillSpendsTheCaptcha(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	// A concurrent request takes the last place between the check and the take.
	r.limiter.refuseTake = "sms:global"
	err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: "ab3k", ClientIP: clientIP})
	if !errors.As(err, new(*domain.ThrottledError)) {
		t.Fatalf("err = %v, want ThrottledError from the take", err)
	}
	if len(r.outbox.sent) != 0 || r.codes.issued != 0 {
		t.Error("a request refused by the budget's take sent a code")
	}
	if _, ok := r.challenges.m[testUUID]; ok {
		t.Error("a request that reached the budget's take kept its captcha: its answer could be replayed")
	}
}

func TestRequestSMSCode_PhoneInItsIntervalKeepsTheCaptcha(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	r.codes.throttled["+8613800138000"] = true
	err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: "ab3k"})
	if !errors.As(err, new(*domain.ThrottledError)) {
		t.Fatalf("err = %v, want ThrottledError", err)
	}
	if _, ok := r.challenges.m[testUUID]; !ok {
		t.Fatal("a request refused for the phone's interval spent the captcha")
	}
	// The same answer still works once the phone may be sent a code again.
	delete(r.codes.throttled, "+8613800138000")
	if err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: "ab3k"}); err != nil {
		t.Fatalf("the kept captcha did not work: %v", err)
	}
}

func TestRequestSMSCode_SlotClaimedAfterTheCheckIsStillRefusedAtIssue(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	r.codes.claimedMeanwhile["+8613800138000"] = true
	err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: "ab3k"})
	if !errors.As(err, new(*domain.ThrottledError)) {
		t.Fatalf("err = %v, want ThrottledError from the atomic claim", err)
	}
	if len(r.outbox.sent) != 0 || r.codes.issued != 0 {
		t.Error("a request that lost the claim sent a code")
	}
	if _, ok := r.challenges.m[testUUID]; ok {
		t.Error("a request that reached the claim kept its captcha")
	}
}

func TestRequestSMSCode_AnswerCaseIsIgnoredOnBothSides(t *testing.T) {
	// The seed's application stores answers as drawn, in upper case.
	for _, typed := range []string{"abcd", "ABCD", "AbCd"} {
		t.Run(typed, func(t *testing.T) {
			r := newRequestRig(t, "123456", msgID)
			r.challenges.m[testUUID] = savedChallenge{answer: "ABCD", ttl: time.Minute}
			if err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: typed}); err != nil {
				t.Fatalf("typed %q for a stored ABCD: %v", typed, err)
			}
		})
	}
}

func TestRequestSMSCode_PhoneRefusalDoesNotSpendTheGlobalBudget(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	r.codes.throttled["+8613800138000"] = true
	err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: "ab3k", ClientIP: clientIP})
	if !errors.As(err, new(*domain.ThrottledError)) {
		t.Fatalf("err = %v, want ThrottledError", err)
	}
	for _, k := range r.limiter.taken {
		if k == "sms:global" {
			t.Error("a request the phone's slot refused spent the global budget")
		}
	}
}

func TestRequestSMSCode_AmbiguousEnqueueFailureKeepsTheCode(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	// A timeout may have queued the message: withdrawing would send a code
	// that no longer verifies.
	r.outbox.err = fmt.Errorf("enqueue: %w", domain.ErrStoreUnavailable)
	err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: "ab3k"})
	if !errors.Is(err, domain.ErrStoreUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if r.codes.withdrawn != 0 {
		t.Error("an ambiguous failure withdrew the code")
	}
}

func TestRequestSMSCode_PassesThePhoneQuotasToTheStore(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	if err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: "ab3k", ClientIP: clientIP}); err != nil {
		t.Fatal(err)
	}
	got := r.codes.m["+8613800138000"].code.Quotas
	want := domain.DefaultLimits().PhoneSMS
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("quotas %v, want %v", got, want)
	}
	if strings.Join(r.limiter.taken, ",") != "sms:ip:198.51.100.20,sms:global" {
		t.Errorf("limiter keys %v", r.limiter.taken)
	}
}

func TestRequestSMSCode_CodeThatCannotBeQueuedIsWithdrawn(t *testing.T) {
	r := newRequestRig(t, "123456", msgID)
	r.outbox.err = domain.ErrOutboxFull
	err := r.uc.Handle(t.Context(), RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: "ab3k"})
	if !errors.Is(err, domain.ErrOutboxFull) {
		t.Fatalf("err = %v, want ErrOutboxFull", err)
	}
	if r.codes.withdrawn != 1 || r.codes.throttled["+8613800138000"] {
		t.Error("the unsent code still holds the phone's slot")
	}
}
