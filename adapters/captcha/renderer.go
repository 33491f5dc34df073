// Package captcha renders captcha images with github.com/mojocn/base64Captcha.
package captcha

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/color"

	"github.com/google/wire"
	"github.com/mojocn/base64Captcha"

	"github.com/lemonmall/verifyd/domain"
)

// Size of the rendered image in pixels.
const (
	Width  = 240
	Height = 80
)

// Renderer draws the text it is given; it never chooses the text, because
// base64Captcha's own generator uses math/rand.
type Renderer struct {
	driver *base64Captcha.DriverString
}

var _ domain.CaptchaRenderer = (*Renderer)(nil)

// NewRenderer returns a renderer for 240x80 PNG images with a few noise lines.
func NewRenderer() *Renderer {
	// Latin fonts whose glyphs stay legible at this size; the bundled CJK
	// font is megabytes, and the outline, tiny or swash fonts failed people
	// more often than machines. Case is ignored when answers are compared,
	// so fonts drawing only capitals are fine.
	fonts := []string{"ApothecaryFont.ttf", "DENNEthree-dee.ttf", "RitaSmith.ttf", "actionj.ttf", "chromohv.ttf"}
	// Thin crossing lines only: the thick sine band hid whole characters.
	driver := base64Captcha.NewDriverString(Height, Width, 0, base64Captcha.OptionShowSlimeLine,
		4, domain.CaptchaAlphabet, &color.RGBA{R: 250, G: 250, B: 250, A: 255}, nil, fonts)
	return &Renderer{driver: driver}
}

// Render draws text into a PNG image.
func (r *Renderer) Render(ctx context.Context, text string) (domain.Image, error) {
	if err := ctx.Err(); err != nil {
		return domain.Image{}, err
	}
	if text == "" {
		return domain.Image{}, errors.New("captcha: empty text")
	}
	item, err := r.driver.DrawCaptcha(text)
	if err != nil {
		return domain.Image{}, fmt.Errorf("captcha: draw: %w", err)
	}
	var buf bytes.Buffer
	buf.Grow(8 << 10)
	if _, err := item.WriteTo(&buf); err != nil {
		return domain.Image{}, fmt.Errorf("captcha: encode: %w", err)
	}
	return domain.Image{ContentType: "image/png", Data: buf.Bytes()}, nil
}

// ProviderSet provides the renderer as the domain's CaptchaRenderer.
var ProviderSet = wire.NewSet(NewRenderer, wire.Bind(new(domain.CaptchaRenderer), new(*Renderer)))
