package domain

import (
	"context"
	"fmt"
)

// AudioCaptchaLength is the number of digits an audio captcha speaks. Digits
// carry fewer bits than the image alphabet (10 symbols against 31), so six of
// them keep a blind guess (1 in 10^6) as unlikely as four image characters
// (1 in 9.2·10^5).
const AudioCaptchaLength = 6

// AudioRenderer speaks a captcha's digits, the alternative for users who
// cannot read the image.
type AudioRenderer interface {
	// Speak returns an encoded recording of digits (ASCII 0-9 only) spoken
	// in lang; an unknown lang falls back to English.
	Speak(ctx context.Context, digits string, lang Language) (Audio, error)
}

// Audio is an encoded recording.
type Audio struct {
	ContentType string
	Data        []byte
}

// NewChallengeID draws a random RFC 4122 version 4 UUID, for challenges whose
// id the server chooses: 122 random bits, so an id is never issued twice and
// cannot be guessed by someone who was not given it.
func NewChallengeID(r Random) (ChallengeID, error) {
	const hex = "0123456789abcdef"
	body, err := r.String(30, hex)
	if err != nil {
		return "", fmt.Errorf("challenge id: %w", err)
	}
	variant, err := r.String(1, "89ab")
	if err != nil {
		return "", fmt.Errorf("challenge id: %w", err)
	}
	// xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: 12+4 hex, version, 3 hex,
	// variant, 3 hex, 12 hex.
	s := body[0:8] + "-" + body[8:12] + "-4" + body[12:15] + "-" + variant + body[15:18] + "-" + body[18:30]
	return ChallengeID(s), nil
}
