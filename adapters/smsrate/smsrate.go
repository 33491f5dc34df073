// Package smsrate paces SMS sends to the rate a provider account accepts.
// Providers throttle per account (Twilio per sender, Chinese providers per
// signature) and answer a burst over it with refusals that cost retries, so
// a sender is held to a steady rate here instead.
package smsrate

import (
	"context"
	"fmt"

	"golang.org/x/time/rate"

	"github.com/lemonmall/verifyd/domain"
)

// Sender passes sends to the next sender no faster than its rate: a token
// bucket holding one send, refilled perSecond times a second, so sends are
// evenly spaced rather than bunched at the start of each second.
type Sender struct {
	next    domain.SMSSender
	limiter *rate.Limiter
}

var _ domain.SMSSender = (*Sender)(nil)

// Limit returns next paced to perSecond sends a second, or next itself when
// perSecond is 0 or less (no limit). A nil next is a wiring mistake and
// panics.
func Limit(next domain.SMSSender, perSecond float64) domain.SMSSender {
	if next == nil {
		panic("smsrate: Limit needs a non-nil sender")
	}
	if perSecond <= 0 {
		return next
	}
	return &Sender{next: next, limiter: rate.NewLimiter(rate.Limit(perSecond), 1)}
}

// SendSMS waits for the send's turn, then sends. A wait cut short by ctx
// sends nothing and returns an error wrapping ctx's, which callers treat
// like a cancelled send.
func (s *Sender) SendSMS(ctx context.Context, msg domain.SMSMessage) (domain.SMSReceipt, error) {
	if err := s.limiter.Wait(ctx); err != nil {
		return domain.SMSReceipt{}, fmt.Errorf("smsrate: waiting for a send slot: %w", err)
	}
	return s.next.SendSMS(ctx, msg)
}
