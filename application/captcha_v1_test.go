package application

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// fakeSpeaker records the digits it was asked to speak.
type fakeSpeaker struct {
	spoken []string
	langs  []domain.Language
	err    error
}

func (f *fakeSpeaker) Speak(_ context.Context, digits string, lang domain.Language) (domain.Audio, error) {
	if f.err != nil {
		return domain.Audio{}, f.err
	}
	f.spoken, f.langs = append(f.spoken, digits), append(f.langs, lang)
	return domain.Audio{ContentType: "audio/wav", Data: []byte("wav:" + digits)}, nil
}

func newIssueCaptcha(t *testing.T, store domain.ChallengeStore, random domain.Random) *IssueCaptcha {
	t.Helper()
	image, err := NewIssueImageChallenge(store, &fakeRenderer{}, random, &fakeLimiter{}, &fakeEvents{}, domain.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	uc, err := NewIssueCaptcha(image, random, domain.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return uc
}

func TestIssueCaptcha_ServerDrawsAVersion4IDAndStoresTheAnswerUnderIt(t *testing.T) {
	store := newFakeChallenges()
	random := &scriptedRandom{next: []string{"0123456789abcdef0123456789abcd", "a", "K3BA"}}
	got, err := newIssueCaptcha(t, store, random).Handle(t.Context(), IssueCaptchaInput{})
	if err != nil {
		t.Fatal(err)
	}
	const wantID = "01234567-89ab-4cde-af01-23456789abcd"
	if got.ID != wantID || string(got.Image.Data) != "png:K3BA" || got.ExpiresIn != 300*time.Second {
		t.Fatalf("got %+v, want id %s, the rendered K3BA and 300s", got, wantID)
	}
	if s := store.m[wantID]; s.answer != "k3ba" || s.ttl != 300*time.Second {
		t.Errorf("stored %+v under the id", s)
	}
}

func TestIssueCaptcha_NoIDWithoutRandomness(t *testing.T) {
	store := newFakeChallenges()
	if _, err := newIssueCaptcha(t, store, &scriptedRandom{}).Handle(t.Context(), IssueCaptchaInput{}); err == nil {
		t.Fatal("issued a captcha without an id")
	}
	if len(store.m) != 0 {
		t.Errorf("stored %v", store.m)
	}
}

func TestIssueCaptcha_RefusesNilDependencies(t *testing.T) {
	if _, err := NewIssueCaptcha(nil, &scriptedRandom{}, domain.DefaultPolicy()); err == nil {
		t.Error("accepted a nil image use case")
	}
}

func TestRefreshImageChallenge_ReplacesALiveAnswerOnly(t *testing.T) {
	store := newFakeChallenges()
	store.m[testUUID] = savedChallenge{"old1", time.Minute}
	limiter := &fakeLimiter{}
	uc, err := NewRefreshImageChallenge(store, &fakeRenderer{}, &scriptedRandom{next: []string{"NEW2", "XXXX"}}, limiter, &fakeEvents{}, domain.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	img, err := uc.Handle(t.Context(), RefreshImageChallengeInput{ID: testUUID, ClientIP: netip.MustParseAddr("192.0.2.1")})
	if err != nil || string(img.Data) != "png:NEW2" {
		t.Fatalf("got %q, %v", img.Data, err)
	}
	if s := store.m[testUUID]; s.answer != "new2" || s.ttl != 300*time.Second {
		t.Errorf("stored %+v, want new2 for 300s", s)
	}
	if len(limiter.taken) != 1 || limiter.taken[0] != "captcha:ip:192.0.2.1" {
		t.Errorf("limiter saw %v, want the client counted as for a captcha", limiter.taken)
	}
	other := domain.ChallengeID("1f8fad5b-d9cb-469f-a165-70867728950e")
	if _, err := uc.Handle(t.Context(), RefreshImageChallengeInput{ID: other}); !errors.Is(err, domain.ErrChallengeNotFound) {
		t.Fatalf("unknown id: %v, want ErrChallengeNotFound", err)
	}
	if _, ok := store.m[other]; ok {
		t.Error("a refresh created a challenge under an id never issued")
	}
}

func TestRefreshImageChallenge_FailedRenderKeepsTheOldAnswer(t *testing.T) {
	store := newFakeChallenges()
	store.m[testUUID] = savedChallenge{"old1", time.Minute}
	uc, _ := NewRefreshImageChallenge(store, &fakeRenderer{err: errors.New("boom")}, &scriptedRandom{next: []string{"NEW2"}}, &fakeLimiter{}, &fakeEvents{}, domain.DefaultPolicy())
	if _, err := uc.Handle(t.Context(), RefreshImageChallengeInput{ID: testUUID}); err == nil {
		t.Fatal("want the render error")
	}
	if s := store.m[testUUID]; s.answer != "old1" {
		t.Errorf("stored %+v, want the old answer kept", s)
	}
}

func TestRefreshImageChallenge_ThrottledClientChangesNothing(t *testing.T) {
	store := newFakeChallenges()
	store.m[testUUID] = savedChallenge{"old1", time.Minute}
	uc, _ := NewRefreshImageChallenge(store, &fakeRenderer{}, &scriptedRandom{next: []string{"NEW2"}}, &fakeLimiter{refuse: "captcha:"}, &fakeEvents{}, domain.DefaultPolicy())
	_, err := uc.Handle(t.Context(), RefreshImageChallengeInput{ID: testUUID, ClientIP: netip.MustParseAddr("192.0.2.1")})
	if te := new(domain.ThrottledError); !errors.As(err, &te) {
		t.Fatalf("got %v, want a ThrottledError", err)
	}
	if s := store.m[testUUID]; s.answer != "old1" {
		t.Errorf("stored %+v, want the old answer kept", s)
	}
}

func TestIssueAudioChallenge_SixDigitsReplaceTheImageAnswer(t *testing.T) {
	store := newFakeChallenges()
	store.m[testUUID] = savedChallenge{"ab3k", time.Minute}
	speaker := &fakeSpeaker{}
	uc, err := NewIssueAudioChallenge(store, speaker, &scriptedRandom{next: []string{"048159"}}, &fakeLimiter{}, &fakeEvents{}, domain.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	audio, err := uc.Handle(t.Context(), IssueAudioChallengeInput{ID: testUUID, Lang: domain.Chinese})
	if err != nil || string(audio.Data) != "wav:048159" || audio.ContentType != "audio/wav" {
		t.Fatalf("got %q %q, %v", audio.ContentType, audio.Data, err)
	}
	if len(speaker.langs) != 1 || speaker.langs[0] != domain.Chinese {
		t.Errorf("spoken in %v, want zh", speaker.langs)
	}
	if s := store.m[testUUID]; s.answer != "048159" || s.ttl != 300*time.Second {
		t.Errorf("stored %+v, want the spoken digits for 300s", s)
	}
}

func TestIssueAudioChallenge_UnknownIDIsNotFoundAndNothingIsStored(t *testing.T) {
	store := newFakeChallenges()
	uc, _ := NewIssueAudioChallenge(store, &fakeSpeaker{}, &scriptedRandom{next: []string{"048159"}}, &fakeLimiter{}, &fakeEvents{}, domain.DefaultPolicy())
	if _, err := uc.Handle(t.Context(), IssueAudioChallengeInput{ID: testUUID}); !errors.Is(err, domain.ErrChallengeNotFound) {
		t.Fatalf("got %v, want ErrChallengeNotFound", err)
	}
	if len(store.m) != 0 {
		t.Errorf("stored %v", store.m)
	}
}

func TestIssueAudioChallenge_FailedRecordingKeepsTheImageAnswer(t *testing.T) {
	store := newFakeChallenges()
	store.m[testUUID] = savedChallenge{"ab3k", time.Minute}
	uc, _ := NewIssueAudioChallenge(store, &fakeSpeaker{err: errors.New("boom")}, &scriptedRandom{next: []string{"048159"}}, &fakeLimiter{}, &fakeEvents{}, domain.DefaultPolicy())
	if _, err := uc.Handle(t.Context(), IssueAudioChallengeInput{ID: testUUID}); err == nil {
		t.Fatal("want the speaker's error")
	}
	if s := store.m[testUUID]; s.answer != "ab3k" {
		t.Errorf("stored %+v, want the image answer kept", s)
	}
}

func TestNewChallengeUseCases_RefuseNilDependencies(t *testing.T) {
	p := domain.DefaultPolicy()
	if _, err := NewRefreshImageChallenge(nil, &fakeRenderer{}, &scriptedRandom{}, &fakeLimiter{}, &fakeEvents{}, p); err == nil {
		t.Error("refresh accepted a nil store")
	}
	if _, err := NewIssueAudioChallenge(newFakeChallenges(), nil, &scriptedRandom{}, &fakeLimiter{}, &fakeEvents{}, p); err == nil {
		t.Error("audio accepted a nil speaker")
	}
}

func TestRequestSMSCode_TermsAreThePolicys(t *testing.T) {
	p := domain.DefaultPolicy()
	p.ResendInterval, p.CodeTTL = 90*time.Second, 10*time.Minute
	digester, _ := domain.NewCodeDigester(make([]byte, 32))
	uc, err := NewRequestSMSCode(newFakeChallenges(), newFakeCodes(), &fakeOutbox{}, &fakeLimiter{}, &fakeEvents{}, digester, &scriptedRandom{}, &fixedClock{}, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := uc.Terms(); got.ResendAfter != 90*time.Second || got.ExpiresIn != 10*time.Minute {
		t.Errorf("terms %+v", got)
	}
}
