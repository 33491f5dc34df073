package application

import (
	"context"
	"fmt"
	"net/netip"

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
	imageChallenge
}

// NewIssueImageChallenge refuses nil dependencies and unusable policies.
func NewIssueImageChallenge(challenges domain.ChallengeStore, renderer domain.CaptchaRenderer, random domain.Random,
	limiter domain.RateLimiter, events domain.Events, policy domain.Policy) (*IssueImageChallenge, error) {
	ic, err := newImageChallenge("IssueImageChallenge", challenges, renderer, random, limiter, events, policy)
	if err != nil {
		return nil, err
	}
	return &IssueImageChallenge{ic}, nil
}

// Handle counts the client first, since rendering costs CPU and storing costs
// memory, then renders and stores second, so a failed render leaves no
// answer behind that no one can see.
func (uc *IssueImageChallenge) Handle(ctx context.Context, in IssueImageChallengeInput) (domain.Image, error) {
	if in.ID == "" {
		return domain.Image{}, &domain.InvalidInputError{Field: "uuid", Reason: domain.ReasonRequired}
	}
	answer, img, err := uc.draw(ctx, in.ClientIP)
	if err != nil {
		return domain.Image{}, fmt.Errorf("issue image challenge: %w", err)
	}
	if err := uc.challenges.SaveChallenge(ctx, in.ID, answer, uc.policy.CaptchaTTL); err != nil {
		return domain.Image{}, fmt.Errorf("issue image challenge: save: %w", err)
	}
	uc.events.CaptchaIssued()
	return img, nil
}
