package application

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// IssueCaptchaInput asks for a new captcha.
type IssueCaptchaInput struct {
	// ClientIP is the requester's address, when known, for abuse limits.
	ClientIP netip.Addr
}

// IssuedCaptcha is a new challenge: its id, the image to show and how long
// its answer is kept.
type IssuedCaptcha struct {
	ID        domain.ChallengeID
	Image     domain.Image
	ExpiresIn time.Duration
}

// IssueCaptcha draws a new captcha under an id the server chooses, for
// clients that should not invent ids (apps, single-page apps): the id is a
// random UUID, so it is never issued twice and another client cannot guess
// it to replace or spend the challenge.
type IssueCaptcha struct {
	image  *IssueImageChallenge
	random domain.Random
	policy domain.Policy
}

// NewIssueCaptcha refuses nil dependencies and unusable policies. It draws
// the image through IssueImageChallenge, so both kinds of id get the same
// limits, alphabet and expiry.
func NewIssueCaptcha(image *IssueImageChallenge, random domain.Random, policy domain.Policy) (*IssueCaptcha, error) {
	if image == nil || random == nil {
		return nil, errors.New("IssueCaptcha: nil dependency")
	}
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	return &IssueCaptcha{image: image, random: random, policy: policy}, nil
}

// Handle draws the id, then the challenge under it.
func (uc *IssueCaptcha) Handle(ctx context.Context, in IssueCaptchaInput) (IssuedCaptcha, error) {
	id, err := domain.NewChallengeID(uc.random)
	if err != nil {
		return IssuedCaptcha{}, fmt.Errorf("issue captcha: %w", err)
	}
	img, err := uc.image.Handle(ctx, IssueImageChallengeInput{ID: id, ClientIP: in.ClientIP})
	if err != nil {
		return IssuedCaptcha{}, fmt.Errorf("issue captcha: %w", err)
	}
	return IssuedCaptcha{ID: id, Image: img, ExpiresIn: uc.policy.CaptchaTTL}, nil
}
