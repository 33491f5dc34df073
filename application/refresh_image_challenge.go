package application

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// RefreshImageChallengeInput names a live challenge whose image the user
// cannot read.
type RefreshImageChallengeInput struct {
	ID domain.ChallengeID
	// ClientIP is the requester's address, when known, for abuse limits.
	ClientIP netip.Addr
}

// RefreshImageChallenge draws a new image with a new answer for a challenge
// that is still live, replacing its answer. Unlike IssueImageChallenge it
// never creates a challenge: an id the server issued stays the only way in,
// and an id that was spent or expired is never brought back.
type RefreshImageChallenge struct {
	imageChallenge
}

// NewRefreshImageChallenge refuses nil dependencies and unusable policies.
func NewRefreshImageChallenge(challenges domain.ChallengeStore, renderer domain.CaptchaRenderer, random domain.Random,
	limiter domain.RateLimiter, events domain.Events, policy domain.Policy) (*RefreshImageChallenge, error) {
	ic, err := newImageChallenge("RefreshImageChallenge", challenges, renderer, random, limiter, events, policy)
	if err != nil {
		return nil, err
	}
	return &RefreshImageChallenge{ic}, nil
}

// Handle counts the client as for a new captcha (rendering costs the same),
// renders before touching the store, so a failed render leaves the old
// challenge usable, then replaces the answer. domain.ErrChallengeNotFound
// when the id holds no live challenge.
func (uc *RefreshImageChallenge) Handle(ctx context.Context, in RefreshImageChallengeInput) (domain.Image, error) {
	if in.ID == "" {
		return domain.Image{}, &domain.InvalidInputError{Field: "uuid", Reason: domain.ReasonRequired}
	}
	answer, img, err := uc.draw(ctx, in.ClientIP)
	if err != nil {
		return domain.Image{}, fmt.Errorf("refresh image challenge: %w", err)
	}
	if err := replaceChallenge(ctx, uc.challenges, in.ID, answer, uc.policy.CaptchaTTL); err != nil {
		return domain.Image{}, fmt.Errorf("refresh image challenge: %w", err)
	}
	uc.events.CaptchaIssued()
	return img, nil
}

// replaceChallenge puts a new answer under an id that holds a live one. The
// old answer is taken first, in the store's one atomic step, so from then on
// it is spent whatever happens next: a client holding it cannot race the
// replacement. Of two concurrent replacements one wins and the other gets
// domain.ErrChallengeNotFound, as does an id that was never issued, spent or
// expired.
func replaceChallenge(ctx context.Context, store domain.ChallengeStore, id domain.ChallengeID, answer string, ttl time.Duration) error {
	if _, err := store.TakeChallenge(ctx, id); err != nil {
		return fmt.Errorf("take old answer: %w", err)
	}
	if err := store.SaveChallenge(ctx, id, answer, ttl); err != nil {
		return fmt.Errorf("save new answer: %w", err)
	}
	return nil
}
