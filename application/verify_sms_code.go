package application

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/netip"

	"github.com/lemonmall/verifyd/domain"
)

// VerifySMSCodeInput is a parsed verification attempt.
type VerifySMSCodeInput struct {
	Phone domain.PhoneNumber
	Code  domain.SMSCode
	// ClientIP is the requester's address, when known, for abuse limits.
	ClientIP netip.Addr
}

// VerifySMSCode checks a code a user typed against the one sent to the phone.
type VerifySMSCode struct {
	codes    domain.CodeStore
	limiter  domain.RateLimiter
	events   domain.Events
	digester *domain.CodeDigester
	policy   domain.Policy
}

// NewVerifySMSCode refuses nil dependencies and unusable policies.
func NewVerifySMSCode(codes domain.CodeStore, limiter domain.RateLimiter, events domain.Events, digester *domain.CodeDigester,
	policy domain.Policy) (*VerifySMSCode, error) {
	if codes == nil || limiter == nil || events == nil || digester == nil {
		return nil, errors.New("VerifySMSCode: nil dependency")
	}
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	return &VerifySMSCode{codes: codes, limiter: limiter, events: events, digester: digester, policy: policy}, nil
}

// Handle counts the attempt before comparing, so parallel guesses cannot get
// more than MaxAttempts comparisons, then compares digests in constant time
// and consumes the code on success. No code, a wrong code and a burned code
// all return domain.ErrSMSCodeMismatch. Every attempt's outcome is reported
// to Events.
func (uc *VerifySMSCode) Handle(ctx context.Context, in VerifySMSCodeInput) error {
	err := uc.verify(ctx, in)
	uc.events.CodeVerified(domain.VerifyOutcomeOf(err))
	return err
}

func (uc *VerifySMSCode) verify(ctx context.Context, in VerifySMSCodeInput) error {
	if in.Phone.IsZero() {
		return domain.ErrInvalidPhone
	}
	if in.Code == "" {
		return &domain.InvalidInputError{Field: "sms_code", Reason: domain.ReasonRequired}
	}
	if err := take(ctx, uc.limiter, uc.policy.Limits.ForVerify(in.ClientIP)); err != nil {
		return fmt.Errorf("verify sms code: %w", err)
	}
	// The digest is computed before the store is asked, so "no code" and
	// "wrong code" cost the same work and answer alike.
	want := uc.digester.Digest(in.Phone, in.Code)
	stored, err := uc.codes.AttemptCode(ctx, in.Phone, uc.policy.MaxAttempts)
	if errors.Is(err, domain.ErrCodeNotFound) {
		return domain.ErrSMSCodeMismatch
	}
	if err != nil {
		return fmt.Errorf("verify sms code: attempt: %w", err)
	}
	if !hmac.Equal(stored, want) {
		return domain.ErrSMSCodeMismatch
	}
	consumed, err := uc.codes.ConsumeCode(ctx, in.Phone, stored)
	if err != nil {
		return fmt.Errorf("verify sms code: consume: %w", err)
	}
	if !consumed {
		// Someone verified the same code a moment earlier, or a new code
		// replaced it: either way this attempt did not win it.
		return domain.ErrSMSCodeMismatch
	}
	return nil
}
