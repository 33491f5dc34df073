package application

import (
	"errors"
	"slices"
	"testing"

	"github.com/lemonmall/verifyd/domain"
)

func TestRequestSMSCode_ReportsEachRequestWithTheReasonOfItsRefusal(t *testing.T) {
	for name, tc := range map[string]struct {
		setup func(r *requestRig)
		typed string
		want  domain.SMSRefusal // "" for a sent code
	}{
		"sent":             {func(*requestRig) {}, "ab3k", ""},
		"client limit":     {func(r *requestRig) { r.limiter.refuse = "sms:ip:" }, "ab3k", domain.SMSRefusedClientLimit},
		"phone interval":   {func(r *requestRig) { r.codes.throttled["+8613800138000"] = true }, "ab3k", domain.SMSRefusedPhoneLimit},
		"phone lost race":  {func(r *requestRig) { r.codes.claimedMeanwhile["+8613800138000"] = true }, "ab3k", domain.SMSRefusedPhoneLimit},
		"budget spent":     {func(r *requestRig) { r.limiter.refuse = "sms:global" }, "ab3k", domain.SMSRefusedBudget},
		"wrong captcha":    {func(*requestRig) {}, "zzzz", domain.SMSRefusedCaptchaMismatch},
		"captcha used":     {func(r *requestRig) { delete(r.challenges.m, testUUID) }, "ab3k", domain.SMSRefusedCaptchaExpired},
		"store failure":    {func(r *requestRig) { r.codes.err = errors.New("down") }, "ab3k", domain.SMSRefusedError},
		"outbox failure":   {func(r *requestRig) { r.outbox.err = domain.ErrOutboxFull }, "ab3k", domain.SMSRefusedError},
		"missing the uuid": {nil, "ab3k", domain.SMSRefusedInvalid},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRequestRig(t, "123456", msgID)
			in := RequestSMSCodeInput{Phone: testPhone(t), ChallengeID: testUUID, ImageCode: tc.typed, ClientIP: clientIP}
			if tc.setup == nil {
				in.ChallengeID = ""
			} else {
				tc.setup(r)
			}
			err := r.uc.Handle(t.Context(), in)
			if tc.want == "" {
				if err != nil || r.events.requested != 1 || len(r.events.refused) != 0 {
					t.Fatalf("err %v, %d requested, refused %v; want one requested", err, r.events.requested, r.events.refused)
				}
				return
			}
			if err == nil || r.events.requested != 0 || !slices.Equal(r.events.refused, []domain.SMSRefusal{tc.want}) {
				t.Fatalf("err %v, %d requested, refused %v; want refused for %s", err, r.events.requested, r.events.refused, tc.want)
			}
		})
	}
}

func TestVerifySMSCode_ReportsEveryAttemptsOutcome(t *testing.T) {
	digester, err := domain.NewCodeDigester(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	codes, limiter, events, phone := newFakeCodes(), &fakeLimiter{}, &fakeEvents{}, testPhone(t)
	codes.m[phone.E164()] = &storedCode{code: domain.NewCode{Digest: digester.Digest(phone, "123456")}}
	uc, err := NewVerifySMSCode(codes, limiter, events, digester, domain.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	_ = uc.Handle(t.Context(), VerifySMSCodeInput{Phone: phone, Code: "000000"})
	_ = uc.Handle(t.Context(), VerifySMSCodeInput{Phone: phone})
	_ = uc.Handle(t.Context(), VerifySMSCodeInput{Phone: phone, Code: "123456"})
	limiter.refuse = "verify:ip:"
	_ = uc.Handle(t.Context(), VerifySMSCodeInput{Phone: phone, Code: "123456", ClientIP: clientIP})
	limiter.refuse = ""
	codes.err = errors.New("down")
	_ = uc.Handle(t.Context(), VerifySMSCodeInput{Phone: phone, Code: "123456"})
	want := []domain.VerifyOutcome{domain.VerifyMismatch, domain.VerifyInvalid, domain.VerifySuccess, domain.VerifyThrottled, domain.VerifyError}
	if !slices.Equal(events.verified, want) {
		t.Errorf("outcomes %v, want %v", events.verified, want)
	}
}

func TestIssueImageChallenge_ReportsOnlyStoredCaptchas(t *testing.T) {
	events := &fakeEvents{}
	store := newFakeChallenges()
	uc, err := NewIssueImageChallenge(store, &fakeRenderer{}, &scriptedRandom{next: []string{"abcd", "efgh"}}, &fakeLimiter{}, events, domain.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uc.Handle(t.Context(), IssueImageChallengeInput{ID: testUUID}); err != nil {
		t.Fatal(err)
	}
	store.err = errors.New("down")
	if _, err := uc.Handle(t.Context(), IssueImageChallengeInput{ID: testUUID}); err == nil {
		t.Fatal("a failed save was not reported")
	}
	if events.captchas != 1 {
		t.Errorf("%d captchas reported, want the 1 stored", events.captchas)
	}
}
