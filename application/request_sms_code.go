package application

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// RequestSMSCodeInput is a parsed request for a code.
type RequestSMSCodeInput struct {
	Phone       domain.PhoneNumber
	ChallengeID domain.ChallengeID
	// ImageCode is the captcha answer as the user typed it; case is ignored.
	ImageCode string
	// ClientIP is the requester's address, when known, for abuse limits.
	ClientIP netip.Addr
	// Lang is the language the SMS should be written in; zero means the
	// configured default.
	Lang domain.Language
}

// RequestSMSCode sends a one-time code to a phone once its captcha has been
// solved.
type RequestSMSCode struct {
	challenges domain.ChallengeStore
	codes      domain.CodeStore
	outbox     domain.SMSOutbox
	limiter    domain.RateLimiter
	events     domain.Events
	digester   *domain.CodeDigester
	random     domain.Random
	clock      domain.Clock
	policy     domain.Policy
}

// NewRequestSMSCode refuses nil dependencies and unusable policies.
func NewRequestSMSCode(challenges domain.ChallengeStore, codes domain.CodeStore, outbox domain.SMSOutbox, limiter domain.RateLimiter,
	events domain.Events, digester *domain.CodeDigester, random domain.Random, clock domain.Clock, policy domain.Policy) (*RequestSMSCode, error) {
	if challenges == nil || codes == nil || outbox == nil || limiter == nil || events == nil || digester == nil || random == nil || clock == nil {
		return nil, errors.New("RequestSMSCode: nil dependency")
	}
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	return &RequestSMSCode{challenges: challenges, codes: codes, outbox: outbox, limiter: limiter, events: events, digester: digester,
		random: random, clock: clock, policy: policy}, nil
}

// Handle follows the seed's order of checks, made safe for concurrency:
//
//  1. numbers SMS may not go to, then over-eager clients (the client's quota);
//  2. the phone's resend slot and quotas, then the service-wide budget, all
//     read without claiming anything, so a request refused for the phone or
//     by a spent budget leaves its captcha valid, as the seed's send_flag
//     check does, and the user can retry with the captcha on screen;
//  3. the captcha, taken (spent) whatever happens next: one solved captcha
//     buys one attempt, so a failed request cannot be replayed;
//  4. the service-wide budget, taken before the code is issued, so a budget
//     spent by a concurrent request since 2 changes nothing for the phone
//     and its live code stays valid;
//  5. the phone's slot and quotas again, claimed atomically with the new
//     code, so concurrent requests still get one code per interval.
//
// A request that passes 2 and loses a race at 4 has spent its captcha; one
// that loses the race at 5 has spent a place in the budget without sending:
// it needed a solved captcha of its own, so that costs an abuser as much as
// a sent SMS would, and never more.
//
// Every request is reported to Events: requested, or refused with the
// reason decided at the step that refused it.
func (uc *RequestSMSCode) Handle(ctx context.Context, in RequestSMSCodeInput) error {
	reason, err := uc.request(ctx, in)
	if err != nil {
		uc.events.SMSCodeRefused(reason)
		return err
	}
	uc.events.SMSCodeRequested()
	return nil
}

// request does the work of Handle and says, when it refuses, why.
func (uc *RequestSMSCode) request(ctx context.Context, in RequestSMSCodeInput) (domain.SMSRefusal, error) {
	if in.Phone.IsZero() {
		return domain.SMSRefusedInvalid, domain.ErrInvalidPhone
	}
	if in.ChallengeID == "" {
		return domain.SMSRefusedInvalid, &domain.InvalidInputError{Field: "uuid", Reason: domain.ReasonRequired}
	}
	if in.ImageCode == "" {
		return domain.SMSRefusedInvalid, &domain.InvalidInputError{Field: "image_code", Reason: domain.ReasonRequired}
	}
	limits := uc.policy.Limits
	if !limits.AllowsSMSTo(in.Phone) {
		return domain.SMSRefusedInvalid, domain.ErrInvalidPhone
	}
	if err := take(ctx, uc.limiter, limits.ForSMSRequest(in.ClientIP)); err != nil {
		return refusedBy(domain.SMSRefusedClientLimit, err), fmt.Errorf("request sms code: %w", err)
	}
	if err := uc.codes.CheckIssue(ctx, in.Phone, limits.PhoneSMS); err != nil {
		return refusedBy(domain.SMSRefusedPhoneLimit, err), fmt.Errorf("request sms code: phone: %w", err)
	}
	budget := limits.ForGlobalSMS()
	if err := check(ctx, uc.limiter, budget); err != nil {
		return refusedBy(domain.SMSRefusedBudget, err), fmt.Errorf("request sms code: global budget: %w", err)
	}
	answer, err := uc.challenges.TakeChallenge(ctx, in.ChallengeID)
	if errors.Is(err, domain.ErrChallengeNotFound) {
		return domain.SMSRefusedCaptchaExpired, domain.ErrImageCodeExpired
	}
	if err != nil {
		return domain.SMSRefusedError, fmt.Errorf("request sms code: take challenge: %w", err)
	}
	// Both sides lower-cased: verifyd stores answers in lower case, but an
	// answer written by the seed's application may be upper case.
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(in.ImageCode)), []byte(strings.ToLower(answer))) != 1 {
		return domain.SMSRefusedCaptchaMismatch, domain.ErrImageCodeMismatch
	}
	if err := take(ctx, uc.limiter, budget); err != nil {
		return refusedBy(domain.SMSRefusedBudget, err), fmt.Errorf("request sms code: global budget: %w", err)
	}
	if err := uc.issue(ctx, in); err != nil {
		return refusedBy(domain.SMSRefusedPhoneLimit, err), err
	}
	return "", nil
}

// issue stores a new code for the phone and hands its message to the outbox;
// the captcha and the budget have been paid for. A refusal here is the
// phone's slot or quotas lost to a concurrent request, else a failure.
func (uc *RequestSMSCode) issue(ctx context.Context, in RequestSMSCodeInput) error {
	raw, err := uc.random.String(domain.SMSCodeLength, domain.Digits)
	if err != nil {
		return fmt.Errorf("request sms code: random: %w", err)
	}
	code := domain.SMSCode(raw)
	digest := uc.digester.Digest(in.Phone, code)
	err = uc.codes.IssueCode(ctx, in.Phone, domain.NewCode{
		Digest:         digest,
		TTL:            uc.policy.CodeTTL,
		ResendInterval: uc.policy.ResendInterval,
		Quotas:         uc.policy.Limits.PhoneSMS,
	})
	if err != nil {
		return fmt.Errorf("request sms code: issue: %w", err)
	}

	id, err := uc.random.String(20, "0123456789abcdefghijklmnopqrstuvwxyz")
	if err != nil {
		return fmt.Errorf("request sms code: message id: %w", err)
	}
	now := uc.clock.Now()
	msg := domain.SMSMessage{
		ID:        id,
		To:        in.Phone,
		Code:      code,
		Lang:      in.Lang,
		CreatedAt: now,
		ExpiresAt: now.Add(uc.policy.CodeTTL),
	}
	if err := uc.outbox.Enqueue(ctx, msg); err != nil {
		err = fmt.Errorf("request sms code: enqueue: %w", err)
		// Only a definite refusal proves the message will never be sent; a
		// timeout may have queued it, and withdrawing then would send a code
		// that no longer verifies.
		if errors.Is(err, domain.ErrOutboxFull) {
			return errors.Join(err, uc.withdraw(ctx, in.Phone, digest))
		}
		return err
	}
	return nil
}

// refusedBy is reason when err is a refusal by a limit, else an error: a
// limiter or store that failed refused nothing.
func refusedBy(reason domain.SMSRefusal, err error) domain.SMSRefusal {
	if errors.As(err, new(*domain.ThrottledError)) {
		return reason
	}
	return domain.SMSRefusedError
}

// withdraw gives the phone its resend slot and quota places back for a code
// that will not be sent, or the user would wait a minute for nothing. The
// request's context may be what ran out, so the undo gets a moment of its own.
func (uc *RequestSMSCode) withdraw(ctx context.Context, phone domain.PhoneNumber, digest []byte) error {
	undoCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), withdrawTimeout)
	defer cancel()
	if err := uc.codes.WithdrawCode(undoCtx, phone, digest); err != nil {
		return fmt.Errorf("withdraw code: %w", err)
	}
	return nil
}

// withdrawTimeout bounds the undo of an issued code whose message could not
// be queued.
const withdrawTimeout = 2 * time.Second
