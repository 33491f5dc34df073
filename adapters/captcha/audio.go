package captcha

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/mojocn/base64Captcha"

	"github.com/lemonmall/verifyd/domain"
)

// Speaker speaks captcha digits with base64Captcha's audio driver: recorded
// digits at random speeds and gaps over a noise of reversed digits, as a WAV
// file (8 kHz, 8-bit mono PCM). It never chooses the digits, because the
// driver's own generator uses math/rand; only the noise comes from it.
type Speaker struct {
	// drivers holds one driver per language base64Captcha has recordings
	// for and verifyd speaks.
	drivers map[domain.Language]*base64Captcha.DriverAudio
}

var _ domain.AudioRenderer = (*Speaker)(nil)

// NewSpeaker returns a speaker for English and Chinese.
func NewSpeaker() *Speaker {
	return &Speaker{drivers: map[domain.Language]*base64Captcha.DriverAudio{
		domain.English: base64Captcha.NewDriverAudio(domain.AudioCaptchaLength, "en"),
		domain.Chinese: base64Captcha.NewDriverAudio(domain.AudioCaptchaLength, "zh"),
	}}
}

// Speak returns a WAV recording of digits in lang, English when lang is not
// one it speaks.
func (s *Speaker) Speak(ctx context.Context, digits string, lang domain.Language) (domain.Audio, error) {
	if err := ctx.Err(); err != nil {
		return domain.Audio{}, err
	}
	// The driver indexes its recordings by digit value: anything but 0-9
	// would panic inside it.
	if digits == "" {
		return domain.Audio{}, errors.New("captcha audio: no digits")
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return domain.Audio{}, errors.New("captcha audio: digits only")
		}
	}
	driver, ok := s.drivers[lang]
	if !ok {
		driver = s.drivers[domain.English]
	}
	item, err := driver.DrawCaptcha(digits)
	if err != nil {
		return domain.Audio{}, fmt.Errorf("captcha audio: draw: %w", err)
	}
	var buf bytes.Buffer
	if _, err := item.WriteTo(&buf); err != nil {
		return domain.Audio{}, fmt.Errorf("captcha audio: encode: %w", err)
	}
	return domain.Audio{ContentType: base64Captcha.MimeTypeAudio, Data: buf.Bytes()}, nil
}
