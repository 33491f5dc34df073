package application

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/lemonmall/verifyd/domain"
)

// imageChallenge is what issuing and refreshing an image challenge share:
// their dependencies, and drawing a new challenge for a client.
type imageChallenge struct {
	challenges domain.ChallengeStore
	renderer   domain.CaptchaRenderer
	random     domain.Random
	limiter    domain.RateLimiter
	events     domain.Events
	policy     domain.Policy
}

// newImageChallenge refuses nil dependencies and unusable policies; name is
// the use case's, for the error.
func newImageChallenge(name string, challenges domain.ChallengeStore, renderer domain.CaptchaRenderer, random domain.Random,
	limiter domain.RateLimiter, events domain.Events, policy domain.Policy) (imageChallenge, error) {
	if challenges == nil || renderer == nil || random == nil || limiter == nil || events == nil {
		return imageChallenge{}, errors.New(name + ": nil dependency")
	}
	if err := policy.Validate(); err != nil {
		return imageChallenge{}, err
	}
	return imageChallenge{challenges: challenges, renderer: renderer, random: random, limiter: limiter, events: events, policy: policy}, nil
}

// draw counts the client against its captcha quota, then picks an answer and
// renders it. The answer comes back lower-cased, as it is stored: answers
// are compared without case.
func (ic imageChallenge) draw(ctx context.Context, client netip.Addr) (answer string, img domain.Image, err error) {
	if err := take(ctx, ic.limiter, ic.policy.Limits.ForCaptcha(client)); err != nil {
		return "", domain.Image{}, err
	}
	text, err := ic.random.String(ic.policy.CaptchaLength, domain.CaptchaAlphabet)
	if err != nil {
		return "", domain.Image{}, fmt.Errorf("random: %w", err)
	}
	img, err = ic.renderer.Render(ctx, text)
	if err != nil {
		return "", domain.Image{}, fmt.Errorf("render: %w", err)
	}
	return strings.ToLower(text), img, nil
}
