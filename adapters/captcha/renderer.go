// Package captcha renders captcha images: github.com/mojocn/base64Captcha
// draws them, and this package encodes them as small paletted PNGs.
package captcha

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"reflect"
	"runtime"
	"sync"

	"github.com/mojocn/base64Captcha"

	"github.com/lemonmall/verifyd/domain"
)

// Size of the rendered image in pixels.
const (
	Width  = 240
	Height = 80
)

// backgroundGrey is the captcha's background, a light grey.
const backgroundGrey = 250

// Renderer draws the text it is given; it never chooses the text, because
// base64Captcha's own generator uses math/rand.
type Renderer struct {
	driver *base64Captcha.DriverString
	// pixelsField is the index of base64Captcha.ItemChar's picture, or -1
	// when this version of base64Captcha keeps it elsewhere.
	pixelsField int
	frames      sync.Pool // of *frame
	// turns holds one token per core: rendering is pure CPU work, so more
	// renders at once only interleave, each finishing later, with more of
	// base64Captcha's drawing memory alive at a time. Waiters take turns
	// first come, first served, which keeps the slowest render close to
	// the typical one.
	turns chan struct{}
}

// frame holds one render's scratch memory, reused across renders; a frame
// belongs to one render at a time.
type frame struct {
	quantizer *quantizer
	indices   []byte
	png       *pngWriter
}

var _ domain.CaptchaRenderer = (*Renderer)(nil)

// NewDriver returns base64Captcha's driver as verifyd configures it: 240x80,
// a few legible Latin fonts, thin noise lines. Its own DrawCaptcha+WriteTo is
// the stock pipeline the renderer is measured against.
func NewDriver() *base64Captcha.DriverString {
	// Latin fonts whose glyphs stay legible at this size; the bundled CJK
	// font is megabytes, and the outline, tiny or swash fonts failed people
	// more often than machines. Case is ignored when answers are compared,
	// so fonts drawing only capitals are fine.
	fonts := []string{"ApothecaryFont.ttf", "DENNEthree-dee.ttf", "RitaSmith.ttf", "actionj.ttf", "chromohv.ttf"}
	// Thin crossing lines only: the thick sine band hid whole characters.
	return base64Captcha.NewDriverString(Height, Width, 0, base64Captcha.OptionShowSlimeLine,
		4, domain.CaptchaAlphabet, &color.RGBA{R: backgroundGrey, G: backgroundGrey, B: backgroundGrey, A: 255}, nil, fonts)
}

// NewRenderer returns a renderer for 240x80 paletted PNG images.
func NewRenderer() *Renderer {
	r := &Renderer{driver: NewDriver(), pixelsField: pixelsField(), turns: make(chan struct{}, runtime.GOMAXPROCS(0))}
	r.frames.New = func() any {
		return &frame{quantizer: newQuantizer(), indices: make([]byte, Width*Height), png: newPNGWriter()}
	}
	return r
}

// Render draws text into a PNG image.
func (r *Renderer) Render(ctx context.Context, text string) (domain.Image, error) {
	if err := ctx.Err(); err != nil {
		return domain.Image{}, err
	}
	if text == "" {
		return domain.Image{}, errors.New("captcha: empty text")
	}
	select {
	case r.turns <- struct{}{}:
		defer func() { <-r.turns }()
	case <-ctx.Done():
		return domain.Image{}, ctx.Err()
	}
	item, err := r.driver.DrawCaptcha(text)
	if err != nil {
		return domain.Image{}, fmt.Errorf("captcha: draw: %w", err)
	}
	data, err := r.Encode(item)
	if err != nil {
		return domain.Image{}, err
	}
	return domain.Image{ContentType: "image/png", Data: data}, nil
}

// Encode turns a captcha drawn by NewDriver into a paletted PNG. Render
// draws and encodes; Encode alone lets tools compare this encoding with
// base64Captcha's own on the very same drawing.
func (r *Renderer) Encode(item base64Captcha.Item) ([]byte, error) {
	img, err := r.pixels(item)
	if err != nil {
		return nil, err
	}
	f := r.frames.Get().(*frame)
	defer r.frames.Put(f)
	if !f.quantizer.quantize(img, rgbOf(backgroundGrey, backgroundGrey, backgroundGrey), f.indices) {
		return nil, errors.New("captcha: more colours than a captcha has")
	}
	data, err := f.png.encode(Width, Height, f.indices, f.quantizer.palette)
	if err != nil {
		return nil, fmt.Errorf("captcha: encode: %w", err)
	}
	return data, nil
}

// pixelsField finds the field of base64Captcha.ItemChar holding the drawn
// picture. ItemChar offers the picture only as a 32-bit PNG, whose encoding
// costs more than the drawing; reading the field directly is what lets the
// renderer encode it cheaply. The version is pinned in go.mod, and a test
// fails if an upgrade moves the picture.
func pixelsField() int {
	f, ok := reflect.TypeFor[base64Captcha.ItemChar]().FieldByName("nrgba")
	if !ok || f.Type != reflect.TypeFor[*image.NRGBA]() || len(f.Index) != 1 {
		return -1
	}
	return f.Index[0]
}

// pixels returns the picture base64Captcha drew into item.
func (r *Renderer) pixels(item base64Captcha.Item) (*image.NRGBA, error) {
	ic, ok := item.(*base64Captcha.ItemChar)
	if !ok || r.pixelsField < 0 {
		return nil, errors.New("captcha: this base64Captcha version hides its picture elsewhere")
	}
	img := (*image.NRGBA)(reflect.ValueOf(ic).Elem().Field(r.pixelsField).UnsafePointer())
	if img == nil || img.Rect.Dx() != Width || img.Rect.Dy() != Height {
		return nil, fmt.Errorf("captcha: drawn picture is not %dx%d", Width, Height)
	}
	return img, nil
}
