package application

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// The fakes below are deliberately tiny: the store contract suite proves the
// real adapters, these only let the use cases be read in isolation.

type fixedClock struct{ now time.Time }

func (c *fixedClock) Now() time.Time { return c.now }

// scriptedRandom returns its strings in order, then fails.
type scriptedRandom struct {
	mu   sync.Mutex
	next []string
}

func (r *scriptedRandom) String(n int, _ string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.next) == 0 {
		return "", errors.New("scriptedRandom: out of values")
	}
	s := r.next[0]
	r.next = r.next[1:]
	if len(s) != n {
		return "", errors.New("scriptedRandom: scripted value has the wrong length")
	}
	return s, nil
}

type savedChallenge struct {
	answer string
	ttl    time.Duration
}

type fakeChallenges struct {
	m   map[domain.ChallengeID]savedChallenge
	err error
}

func newFakeChallenges() *fakeChallenges {
	return &fakeChallenges{m: map[domain.ChallengeID]savedChallenge{}}
}

func (f *fakeChallenges) SaveChallenge(_ context.Context, id domain.ChallengeID, answer string, ttl time.Duration) error {
	if f.err != nil {
		return f.err
	}
	f.m[id] = savedChallenge{answer, ttl}
	return nil
}

func (f *fakeChallenges) TakeChallenge(_ context.Context, id domain.ChallengeID) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	c, ok := f.m[id]
	if !ok {
		return "", domain.ErrChallengeNotFound
	}
	delete(f.m, id)
	return c.answer, nil
}

type storedCode struct {
	code     domain.NewCode
	attempts int
}

type fakeCodes struct {
	m         map[string]*storedCode
	throttled map[string]bool
	// claimedMeanwhile holds phones whose slot another request takes
	// between CheckIssue and IssueCode: CheckIssue passes, IssueCode refuses.
	claimedMeanwhile map[string]bool
	checked          int
	issued           int
	withdrawn        int
	err              error
}

func newFakeCodes() *fakeCodes {
	return &fakeCodes{m: map[string]*storedCode{}, throttled: map[string]bool{}, claimedMeanwhile: map[string]bool{}}
}

func (f *fakeCodes) CheckIssue(_ context.Context, p domain.PhoneNumber, _ []domain.Quota) error {
	if f.err != nil {
		return f.err
	}
	f.checked++
	if f.throttled[p.E164()] {
		return &domain.ThrottledError{RetryAfter: 42 * time.Second}
	}
	return nil
}

func (f *fakeCodes) IssueCode(_ context.Context, p domain.PhoneNumber, c domain.NewCode) error {
	if f.err != nil {
		return f.err
	}
	if f.throttled[p.E164()] || f.claimedMeanwhile[p.E164()] {
		return &domain.ThrottledError{RetryAfter: 42 * time.Second}
	}
	f.throttled[p.E164()] = true
	f.issued++
	f.m[p.E164()] = &storedCode{code: c}
	return nil
}

func (f *fakeCodes) AttemptCode(_ context.Context, p domain.PhoneNumber, max int) ([]byte, error) {
	if f.err != nil {
		return nil, f.err
	}
	c, ok := f.m[p.E164()]
	if !ok {
		return nil, domain.ErrCodeNotFound
	}
	c.attempts++
	if c.attempts > max {
		delete(f.m, p.E164())
		return nil, domain.ErrCodeNotFound
	}
	return c.code.Digest, nil
}

func (f *fakeCodes) WithdrawCode(_ context.Context, p domain.PhoneNumber, digest []byte) error {
	c, ok := f.m[p.E164()]
	if ok && string(c.code.Digest) == string(digest) {
		delete(f.m, p.E164())
		delete(f.throttled, p.E164())
		f.withdrawn++
	}
	return nil
}

func (f *fakeCodes) ConsumeCode(_ context.Context, p domain.PhoneNumber, digest []byte) (bool, error) {
	c, ok := f.m[p.E164()]
	if !ok || string(c.code.Digest) != string(digest) {
		return false, nil
	}
	delete(f.m, p.E164())
	return true, nil
}

type fakeOutbox struct {
	sent []domain.SMSMessage
	err  error
}

func (f *fakeOutbox) Enqueue(_ context.Context, m domain.SMSMessage) error {
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, m)
	return nil
}

type fakeRenderer struct {
	drawn []string
	err   error
}

func (f *fakeRenderer) Render(_ context.Context, text string) (domain.Image, error) {
	if f.err != nil {
		return domain.Image{}, f.err
	}
	f.drawn = append(f.drawn, text)
	return domain.Image{ContentType: "image/png", Data: []byte("png:" + text)}, nil
}

// fakeLimiter records what it is asked and refuses keys with a given prefix;
// refuseTake refuses them only when taken, as when a concurrent request took
// the last place after a Check.
type fakeLimiter struct {
	mu         sync.Mutex
	taken      []string
	quotas     map[string][]domain.Quota
	refuse     string
	refuseTake string
}

func (f *fakeLimiter) Take(_ context.Context, key string, quotas []domain.Quota) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, prefix := range []string{f.refuse, f.refuseTake} {
		if prefix != "" && strings.HasPrefix(key, prefix) {
			return &domain.ThrottledError{RetryAfter: 7 * time.Second}
		}
	}
	f.taken = append(f.taken, key)
	if f.quotas == nil {
		f.quotas = map[string][]domain.Quota{}
	}
	f.quotas[key] = quotas
	return nil
}

// Check answers as Take would, recording nothing.
func (f *fakeLimiter) Check(_ context.Context, key string, _ []domain.Quota) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != "" && strings.HasPrefix(key, f.refuse) {
		return &domain.ThrottledError{RetryAfter: 7 * time.Second}
	}
	return nil
}

// fakeEvents records what the use cases report.
type fakeEvents struct {
	mu        sync.Mutex
	captchas  int
	requested int
	refused   []domain.SMSRefusal
	verified  []domain.VerifyOutcome
}

func (f *fakeEvents) CaptchaIssued() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.captchas++
}

func (f *fakeEvents) SMSCodeRequested() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requested++
}

func (f *fakeEvents) SMSCodeRefused(reason domain.SMSRefusal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refused = append(f.refused, reason)
}

func (f *fakeEvents) CodeVerified(outcome domain.VerifyOutcome) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verified = append(f.verified, outcome)
}
