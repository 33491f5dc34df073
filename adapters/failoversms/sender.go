// Package failoversms sends through an ordered list of SMS providers: a
// retryable failure of one (outage, throttling, account trouble, timeout) is
// tried at once on the next, so a provider outage costs users no retry
// backoff. A permanent refusal of the number is final: another provider
// would refuse it too, and trying could bill twice.
package failoversms

import (
	"context"
	"errors"
	"log/slog"

	"github.com/lemonmall/verifyd/domain"
)

// Provider is one entry of the list.
type Provider struct {
	// Name is the provider's name in logs and metrics when its sender's
	// answer does not say.
	Name   string
	Sender domain.SMSSender
}

// Sender tries its providers in order. It is safe for concurrent use when
// its providers are.
type Sender struct {
	providers []Provider
	observer  domain.DeliveryObserver
	logger    *slog.Logger
}

var _ domain.SMSSender = (*Sender)(nil)

// New returns a Sender over providers, in order of preference; at least two,
// each with a name and a sender. Each hop to the next provider is logged
// (number masked, no code) and reported to observer as
// domain.DeliveryFailedOver for the provider that failed.
func New(providers []Provider, observer domain.DeliveryObserver, logger *slog.Logger) (*Sender, error) {
	if len(providers) < 2 {
		return nil, errors.New("failoversms: want at least two providers")
	}
	if observer == nil || logger == nil {
		return nil, errors.New("failoversms: nil observer or logger")
	}
	for _, p := range providers {
		if p.Name == "" || p.Sender == nil {
			return nil, errors.New("failoversms: every provider needs a name and a sender")
		}
	}
	return &Sender{providers: append([]Provider(nil), providers...), observer: observer, logger: logger}, nil
}

// SendSMS sends msg with the first provider that accepts it. It returns the
// first permanent refusal, or the last provider's error when every one
// failed retryably, so the caller retries the whole list later. Every send
// starts again from the first provider: the list states the preference, and
// a provider back from an outage gets its traffic back at once.
func (s *Sender) SendSMS(ctx context.Context, msg domain.SMSMessage) (domain.SMSReceipt, error) {
	var err error
	for i, p := range s.providers {
		var receipt domain.SMSReceipt
		receipt, err = p.Sender.SendSMS(ctx, msg)
		if err == nil {
			if receipt.Provider == "" {
				receipt.Provider = p.Name
			}
			return receipt, nil
		}
		err = named(err, p.Name)
		last := i == len(s.providers)-1
		if !domain.IsRetryableSend(err) || ctx.Err() != nil || last {
			return domain.SMSReceipt{}, err
		}
		s.observer.ObserveDelivery(domain.DeliveryFailedOver, p.Name)
		s.logger.LogAttrs(ctx, slog.LevelWarn, "sms provider failed, trying the next",
			slog.String("message_id", msg.ID),
			slog.String("to", msg.To.String()),
			slog.String("provider", p.Name),
			slog.String("next", s.providers[i+1].Name),
			slog.String("error", msg.Redact(err.Error())),
		)
	}
	return domain.SMSReceipt{}, err
}

// named makes sure err says which provider failed: a *domain.SendError
// without a provider, or any other error (a cancelled context), gets name.
func named(err error, name string) error {
	var se *domain.SendError
	if errors.As(err, &se) {
		if se.Provider != "" {
			return err
		}
		c := *se
		c.Provider = name
		return &c
	}
	return &domain.SendError{Provider: name, Retryable: true, Reason: err.Error(), Err: err}
}
