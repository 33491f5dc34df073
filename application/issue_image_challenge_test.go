package application

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

const testUUID = domain.ChallengeID("0f8fad5b-d9cb-469f-a165-70867728950e")

func TestIssueImageChallenge_StoresTheDrawnAnswerLowerCasedFor300s(t *testing.T) {
	store, renderer := newFakeChallenges(), &fakeRenderer{}
	uc, err := NewIssueImageChallenge(store, renderer, &scriptedRandom{next: []string{"AB3K"}}, &fakeLimiter{}, &fakeEvents{}, domain.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	img, err := uc.Handle(t.Context(), IssueImageChallengeInput{ID: testUUID})
	if err != nil {
		t.Fatal(err)
	}
	if string(img.Data) != "png:AB3K" || img.ContentType != "image/png" {
		t.Errorf("image = %q %q, want the rendered AB3K", img.ContentType, img.Data)
	}
	got := store.m[testUUID]
	if got.answer != "ab3k" || got.ttl != 300*time.Second {
		t.Errorf("stored %+v, want answer ab3k for 300s", got)
	}
}

func TestIssueImageChallenge_ReissueReplacesTheEarlierAnswer(t *testing.T) {
	store := newFakeChallenges()
	uc, _ := NewIssueImageChallenge(store, &fakeRenderer{}, &scriptedRandom{next: []string{"aaaa", "bbbb"}}, &fakeLimiter{}, &fakeEvents{}, domain.DefaultPolicy())
	for range 2 {
		if _, err := uc.Handle(t.Context(), IssueImageChallengeInput{ID: testUUID}); err != nil {
			t.Fatal(err)
		}
	}
	if got := store.m[testUUID].answer; got != "bbbb" {
		t.Errorf("answer %q, want the second one", got)
	}
}

func TestIssueImageChallenge_FailedRenderStoresNothing(t *testing.T) {
	store := newFakeChallenges()
	uc, _ := NewIssueImageChallenge(store, &fakeRenderer{err: errors.New("boom")}, &scriptedRandom{next: []string{"abcd"}}, &fakeLimiter{}, &fakeEvents{}, domain.DefaultPolicy())
	if _, err := uc.Handle(t.Context(), IssueImageChallengeInput{ID: testUUID}); err == nil {
		t.Fatal("want the render error")
	}
	if len(store.m) != 0 {
		t.Errorf("stored %v after a failed render", store.m)
	}
}

func TestIssueImageChallenge_StoreOutageIsReported(t *testing.T) {
	store := newFakeChallenges()
	store.err = domain.ErrStoreUnavailable
	uc, _ := NewIssueImageChallenge(store, &fakeRenderer{}, &scriptedRandom{next: []string{"abcd"}}, &fakeLimiter{}, &fakeEvents{}, domain.DefaultPolicy())
	if _, err := uc.Handle(t.Context(), IssueImageChallengeInput{ID: testUUID}); !errors.Is(err, domain.ErrStoreUnavailable) {
		t.Fatalf("err = %v, want ErrStoreUnavailable", err)
	}
}

func TestNewIssueImageChallenge_RefusesNilDependencies(t *testing.T) {
	if _, err := NewIssueImageChallenge(nil, &fakeRenderer{}, &scriptedRandom{}, &fakeLimiter{}, &fakeEvents{}, domain.DefaultPolicy()); err == nil {
		t.Fatal("nil store accepted")
	}
}

func TestIssueImageChallenge_ClientOverItsLimitGetsNoImage(t *testing.T) {
	store, renderer := newFakeChallenges(), &fakeRenderer{}
	limiter := &fakeLimiter{refuse: "captcha:ip:"}
	uc, _ := NewIssueImageChallenge(store, renderer, &scriptedRandom{next: []string{"abcd"}}, limiter, &fakeEvents{}, domain.DefaultPolicy())
	_, err := uc.Handle(t.Context(), IssueImageChallengeInput{ID: testUUID, ClientIP: netip.MustParseAddr("203.0.113.7")})
	if !errors.As(err, new(*domain.ThrottledError)) {
		t.Fatalf("err = %v, want ThrottledError", err)
	}
	if len(renderer.drawn) != 0 || len(store.m) != 0 {
		t.Error("a throttled client still cost a render or a stored answer")
	}
}

func TestIssueImageChallenge_CountsPerClientAddress(t *testing.T) {
	limiter := &fakeLimiter{}
	uc, _ := NewIssueImageChallenge(newFakeChallenges(), &fakeRenderer{}, &scriptedRandom{next: []string{"abcd", "efgh"}}, limiter, &fakeEvents{}, domain.DefaultPolicy())
	uc.Handle(t.Context(), IssueImageChallengeInput{ID: testUUID, ClientIP: netip.MustParseAddr("2001:db8:1:2:3:4:5:6")})
	uc.Handle(t.Context(), IssueImageChallengeInput{ID: testUUID}) // no address: nothing to key on
	if len(limiter.taken) != 1 || limiter.taken[0] != "captcha:ip:2001:db8:1:2::/64" {
		t.Fatalf("limiter keys %v, want the client's /64 once", limiter.taken)
	}
}
