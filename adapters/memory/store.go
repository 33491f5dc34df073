// Package memory provides in-process adapters: the embedded default for a
// single instance and the test double for use cases. State lives only as long
// as the process.
package memory

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// sweepEvery bounds how often a write walks all entries to drop expired ones.
// Reads ignore expired entries on their own, so sweeping only limits memory.
const sweepEvery = time.Minute

// Store keeps captcha answers, SMS code digests and resend slots in maps
// guarded by one mutex, so every method is atomic. Expiry is measured on the
// injected clock; expired entries are ignored at once and dropped by a sweep
// during writes, so the Store starts no goroutine and needs no Close.
type Store struct {
	clock domain.Clock

	mu         sync.Mutex
	challenges map[domain.ChallengeID]challenge
	codes      map[string]code      // by E.164
	slots      map[string]time.Time // resend slot end, by E.164
	sent       map[string]eventLog  // codes issued, by E.164, for quotas
	nextSweep  time.Time
}

type challenge struct {
	answer  string
	expires time.Time
}

type code struct {
	digest   []byte
	attempts int
	burned   bool // past maxAttempts: AttemptCode finds nothing, ConsumeCode still may
	expires  time.Time
	issued   time.Time // its entry in the phone's send log
}

var (
	_ domain.ChallengeStore = (*Store)(nil)
	_ domain.CodeStore      = (*Store)(nil)
)

// NewStore returns an empty Store measuring time with clock. A nil clock is a
// wiring mistake, so it panics rather than guess.
func NewStore(clock domain.Clock) *Store {
	if clock == nil {
		panic("memory: NewStore needs a non-nil domain.Clock")
	}
	return &Store{
		clock:      clock,
		challenges: make(map[domain.ChallengeID]challenge),
		codes:      make(map[string]code),
		slots:      make(map[string]time.Time),
		sent:       make(map[string]eventLog),
	}
}

// Ping reports readiness; an in-process store is always ready.
func (s *Store) Ping(context.Context) error { return nil }

// SaveChallenge stores answer under id for ttl, replacing any earlier one.
func (s *Store) SaveChallenge(ctx context.Context, id domain.ChallengeID, answer string, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("memory: challenge ttl must be positive")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.maybeSweep(now)
	s.challenges[id] = challenge{answer: answer, expires: now.Add(ttl)}
	return nil
}

// TakeChallenge returns the answer stored under id and removes it.
func (s *Store) TakeChallenge(ctx context.Context, id domain.ChallengeID) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.challenges[id]
	if !ok {
		return "", domain.ErrChallengeNotFound
	}
	delete(s.challenges, id)
	if expired(c.expires, s.clock.Now()) {
		return "", domain.ErrChallengeNotFound
	}
	return c.answer, nil
}

// IssueCode claims the phone's resend slot and a place in each of the code's
// quotas and, if all succeed, stores the code with a fresh attempt counter;
// otherwise it returns a *domain.ThrottledError and changes nothing.
func (s *Store) IssueCode(ctx context.Context, phone domain.PhoneNumber, nc domain.NewCode) error {
	if nc.TTL <= 0 || nc.ResendInterval <= 0 {
		return errors.New("memory: code ttl and resend interval must be positive")
	}
	key := phone.E164()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if until, ok := s.slots[key]; ok && !expired(until, now) {
		return &domain.ThrottledError{RetryAfter: retryAfter(until.Sub(now))}
	}
	if d := s.sent[key].wait(now, nc.Quotas); d > 0 {
		return &domain.ThrottledError{RetryAfter: retryAfter(d)}
	}
	s.maybeSweep(now)
	if len(nc.Quotas) > 0 {
		s.sent[key] = s.sent[key].add(now, longestWindow(nc.Quotas))
	}
	s.slots[key] = now.Add(nc.ResendInterval)
	s.codes[key] = code{digest: clone(nc.Digest), expires: now.Add(nc.TTL), issued: now}
	return nil
}

// AttemptCode counts one attempt and returns the stored digest; the attempt
// after the maxAttempts-th burns the code, and it and every later attempt find
// nothing. A burned code is kept, so ConsumeCode by an attempt counted within
// the limit still wins it.
func (s *Store) AttemptCode(ctx context.Context, phone domain.PhoneNumber, maxAttempts int) ([]byte, error) {
	key := phone.E164()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[key]
	if !ok {
		return nil, domain.ErrCodeNotFound
	}
	if expired(c.expires, s.clock.Now()) {
		delete(s.codes, key)
		return nil, domain.ErrCodeNotFound
	}
	if c.burned {
		return nil, domain.ErrCodeNotFound
	}
	c.attempts++
	c.burned = c.attempts > maxAttempts
	s.codes[key] = c
	if c.burned {
		return nil, domain.ErrCodeNotFound
	}
	return clone(c.digest), nil
}

// WithdrawCode deletes the phone's code if its digest equals digest, frees
// the resend slot and removes the code's entry from the send log.
func (s *Store) WithdrawCode(ctx context.Context, phone domain.PhoneNumber, digest []byte) error {
	key := phone.E164()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[key]
	if !ok || string(c.digest) != string(digest) {
		return nil
	}
	delete(s.codes, key)
	delete(s.slots, key)
	log := s.sent[key]
	for i, t := range log {
		if t.Equal(c.issued) {
			s.sent[key] = append(log[:i:i], log[i+1:]...)
			break
		}
	}
	return nil
}

// ConsumeCode deletes the phone's code if its digest equals digest and
// reports whether it did.
func (s *Store) ConsumeCode(ctx context.Context, phone domain.PhoneNumber, digest []byte) (bool, error) {
	key := phone.E164()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[key]
	if !ok {
		return false, nil
	}
	if expired(c.expires, s.clock.Now()) {
		delete(s.codes, key)
		return false, nil
	}
	if string(c.digest) != string(digest) {
		return false, nil
	}
	delete(s.codes, key)
	return true, nil
}

// maybeSweep drops every expired entry at most once per sweepEvery. The
// caller holds s.mu.
func (s *Store) maybeSweep(now time.Time) {
	if now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = now.Add(sweepEvery)
	for id, c := range s.challenges {
		if expired(c.expires, now) {
			delete(s.challenges, id)
		}
	}
	for key, c := range s.codes {
		if expired(c.expires, now) {
			delete(s.codes, key)
		}
	}
	for key, until := range s.slots {
		if expired(until, now) {
			delete(s.slots, key)
		}
	}
	// No quota looks back further than domain.MaxQuotaWindow, so a log whose
	// newest event is older has nothing left to count.
	for key, log := range s.sent {
		if len(log) == 0 || now.Sub(log[len(log)-1]) > domain.MaxQuotaWindow {
			delete(s.sent, key)
		}
	}
}

// expired reports whether an entry ending at end is gone at now: a TTL of d
// covers [start, start+d).
func expired(end, now time.Time) bool { return !now.Before(end) }

// retryAfter rounds d up to whole milliseconds, the resolution Redis reports,
// so both stores answer alike and a caller never sees zero.
func retryAfter(d time.Duration) time.Duration {
	d = (d + time.Millisecond - 1).Truncate(time.Millisecond)
	return max(d, time.Millisecond)
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
