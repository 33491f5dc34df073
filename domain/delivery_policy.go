package domain

import (
	"math/rand/v2"
	"time"
)

// DeliveryPolicy is the retry rule for sending one SMS message: how many
// sends it gets and how long to wait between them. Every outbox asks it what
// to do next, so the in-process pool and the stream worker cannot disagree
// on when a message is retried, given up or dropped as expired; how they
// wait, count and record is theirs. Use DefaultDeliveryPolicy or
// WithDefaults: a zero MaxAttempts allows no send.
type DeliveryPolicy struct {
	// MaxAttempts bounds the sends of one message, first try included.
	MaxAttempts int
	// Backoff is the wait before the first retry; it doubles for each later
	// retry up to MaxBackoff, and each wait is jittered to between half and
	// all of that, so senders that failed together do not retry together.
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// DefaultDeliveryPolicy returns the seed's retry rule: one try and three
// retries, waiting 0.5 s, 1 s and 2 s (each jittered), at most 10 s.
func DefaultDeliveryPolicy() DeliveryPolicy {
	return DeliveryPolicy{MaxAttempts: 4, Backoff: 500 * time.Millisecond, MaxBackoff: 10 * time.Second}
}

// WithDefaults fills the zero (or negative) fields from
// DefaultDeliveryPolicy and raises MaxBackoff to Backoff if below it, so a
// partly set policy still works.
func (p DeliveryPolicy) WithDefaults() DeliveryPolicy {
	d := DefaultDeliveryPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.Backoff <= 0 {
		p.Backoff = d.Backoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = d.MaxBackoff
	}
	p.MaxBackoff = max(p.MaxBackoff, p.Backoff)
	return p
}

// DeliveryStep is what follows a send: a final outcome, or DeliveryRetrying
// after Wait.
type DeliveryStep struct {
	Outcome DeliveryOutcome
	// Wait is how long to wait before the next send; set for
	// DeliveryRetrying only.
	Wait time.Duration
}

// BeforeSend decides whether send attempt n (1-based, counting every earlier
// send of the message, by any worker) may start at now. If not, it returns
// the final outcome instead: DeliveryExpired once now has reached expiresAt
// (the zero time never expires), a code no longer worth sending; else
// DeliveryGaveUp when n is past MaxAttempts, which only a count kept across
// workers reaches (the worker making the last attempt died before it knew
// the outcome).
func (p DeliveryPolicy) BeforeSend(n int, now, expiresAt time.Time) (final DeliveryOutcome, send bool) {
	switch {
	case !expiresAt.IsZero() && !now.Before(expiresAt):
		return DeliveryExpired, false
	case n > p.MaxAttempts:
		return DeliveryGaveUp, false
	}
	return "", true
}

// AfterSend decides what follows send attempt n (1-based) that answered err:
// DeliveryDelivered on success; DeliveryFailed when the error is not
// retryable (IsRetryableSend), since no retry can help; DeliveryGaveUp when
// it was attempt MaxAttempts; else DeliveryRetrying after the backoff of
// attempt n. Expiry is checked again by BeforeSend once the wait is over.
func (p DeliveryPolicy) AfterSend(n int, err error) DeliveryStep {
	switch {
	case err == nil:
		return DeliveryStep{Outcome: DeliveryDelivered}
	case !IsRetryableSend(err):
		return DeliveryStep{Outcome: DeliveryFailed}
	case n >= p.MaxAttempts:
		return DeliveryStep{Outcome: DeliveryGaveUp}
	}
	return DeliveryStep{Outcome: DeliveryRetrying, Wait: retryBackoff(n, p.Backoff, p.MaxBackoff)}
}

// retryBackoff is the wait after failed send attempt n (1-based):
// base·2^(n-1) capped at max, jittered to between half and all of it.
func retryBackoff(n int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}
