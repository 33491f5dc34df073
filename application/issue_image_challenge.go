package application

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/lemonmall/verifyd/domain"
)

// IssueImageChallengeInput names the challenge to (re)issue.
type IssueImageChallengeInput struct {
	ID domain.ChallengeID
	// ClientIP is the requester's address, when known, for abuse limits.
	ClientIP netip.Addr
}

// IssueImageChallenge draws a new captcha for a client-chosen id and remembers
// its answer, replacing any earlier challenge under that id.
type IssueImageChallenge struct {
	challenges domain.ChallengeStore
	renderer   domain.CaptchaRenderer
	random     domain.Random
	limiter    domain.RateLimiter
	events     domain.Events
	policy     domain.Policy
}

// NewIssueImageChallenge refuses nil dependencies and unusable policies.
func NewIssueImageChallenge(challenges domain.ChallengeStore, renderer domain.CaptchaRenderer, random domain.Random,
	limiter domain.RateLimiter, events domain.Events, policy domain.Policy) (*IssueImageChallenge, error) {
	if challenges == nil || renderer == nil || random == nil || limiter == nil || events == nil {
		return nil, errors.New("IssueImageChallenge: nil dependency")
	}
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	return &IssueImageChallenge{challenges: challenges, renderer: renderer, random: random, limiter: limiter, events: events, policy: policy}, nil
}

// Handle counts the client first, since rendering costs CPU and storing costs
// memory, then renders and stores second, so a failed render leaves no
// answer behind that no one can see.
func (uc *IssueImageChallenge) Handle(ctx context.Context, in IssueImageChallengeInput) (domain.Image, error) {
	if in.ID == "" {
		return domain.Image{}, &domain.InvalidInputError{Field: "uuid", Reason: domain.ReasonRequired}
	}
	if err := take(ctx, uc.limiter, uc.policy.Limits.ForCaptcha(in.ClientIP)); err != nil {
		return domain.Image{}, fmt.Errorf("issue image challenge: %w", err)
	}
	text, err := uc.random.String(uc.policy.CaptchaLength, domain.CaptchaAlphabet)
	if err != nil {
		return domain.Image{}, fmt.Errorf("issue image challenge: random: %w", err)
	}
	img, err := uc.renderer.Render(ctx, text)
	if err != nil {
		return domain.Image{}, fmt.Errorf("issue image challenge: render: %w", err)
	}
	if err := uc.challenges.SaveChallenge(ctx, in.ID, strings.ToLower(text), uc.policy.CaptchaTTL); err != nil {
		return domain.Image{}, fmt.Errorf("issue image challenge: save: %w", err)
	}
	uc.events.CaptchaIssued()
	return img, nil
}
