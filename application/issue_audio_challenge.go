package application

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/lemonmall/verifyd/domain"
)

// IssueAudioChallengeInput names a live challenge to be spoken instead.
type IssueAudioChallengeInput struct {
	ID domain.ChallengeID
	// Lang is the language the digits are spoken in; zero means English.
	Lang domain.Language
	// ClientIP is the requester's address, when known, for abuse limits.
	ClientIP netip.Addr
}

// IssueAudioChallenge replaces a live challenge's answer with digits and
// speaks them, for users who cannot read the image. The image's answer stops
// working: one id holds one answer, so offering both would double a guesser's
// chances.
type IssueAudioChallenge struct {
	challenges domain.ChallengeStore
	speaker    domain.AudioRenderer
	random     domain.Random
	limiter    domain.RateLimiter
	events     domain.Events
	policy     domain.Policy
}

// NewIssueAudioChallenge refuses nil dependencies and unusable policies.
func NewIssueAudioChallenge(challenges domain.ChallengeStore, speaker domain.AudioRenderer, random domain.Random,
	limiter domain.RateLimiter, events domain.Events, policy domain.Policy) (*IssueAudioChallenge, error) {
	if events == nil || challenges == nil || speaker == nil || random == nil || limiter == nil {
		return nil, errors.New("IssueAudioChallenge: nil dependency")
	}
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	return &IssueAudioChallenge{challenges: challenges, speaker: speaker, random: random, limiter: limiter, events: events, policy: policy}, nil
}

// Handle counts the client as for an image, draws domain.AudioCaptchaLength
// digits from the Random port (never from the audio library), records them,
// and only then replaces the answer, so a failed recording leaves the image
// usable. domain.ErrChallengeNotFound when the id holds no live challenge.
func (uc *IssueAudioChallenge) Handle(ctx context.Context, in IssueAudioChallengeInput) (domain.Audio, error) {
	if in.ID == "" {
		return domain.Audio{}, &domain.InvalidInputError{Field: "uuid", Reason: domain.ReasonRequired}
	}
	if err := take(ctx, uc.limiter, uc.policy.Limits.ForCaptcha(in.ClientIP)); err != nil {
		return domain.Audio{}, fmt.Errorf("issue audio challenge: %w", err)
	}
	digits, err := uc.random.String(domain.AudioCaptchaLength, domain.Digits)
	if err != nil {
		return domain.Audio{}, fmt.Errorf("issue audio challenge: random: %w", err)
	}
	audio, err := uc.speaker.Speak(ctx, digits, in.Lang)
	if err != nil {
		return domain.Audio{}, fmt.Errorf("issue audio challenge: speak: %w", err)
	}
	if err := replaceChallenge(ctx, uc.challenges, in.ID, digits, uc.policy.CaptchaTTL); err != nil {
		return domain.Audio{}, fmt.Errorf("issue audio challenge: %w", err)
	}
	uc.events.CaptchaIssued()
	return audio, nil
}
