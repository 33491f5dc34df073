package captcha

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"sync"
	"testing"

	"github.com/mojocn/base64Captcha"
)

func decodePaletted(t *testing.T, data []byte) *image.Paletted {
	t.Helper()
	decoded, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	p, ok := decoded.(*image.Paletted)
	if !ok {
		t.Fatalf("decoded as %T, want a paletted image", decoded)
	}
	return p
}

func TestRenderer_DrawsA240x80PNG(t *testing.T) {
	img, err := NewRenderer().Render(t.Context(), "ab3k")
	if err != nil {
		t.Fatal(err)
	}
	if img.ContentType != "image/png" {
		t.Fatalf("content type %q, want image/png", img.ContentType)
	}
	if b := decodePaletted(t, img.Data).Bounds(); b.Dx() != Width || b.Dy() != Height {
		t.Fatalf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), Width, Height)
	}
}

func TestRenderer_RefusesEmptyText(t *testing.T) {
	if _, err := NewRenderer().Render(t.Context(), ""); err == nil {
		t.Fatal("want an error for empty text")
	}
}

// The renderer reads the picture out of base64Captcha's item; an upgrade that
// moves it must fail here, not in production.
func TestRenderer_FindsBase64CaptchasPicture(t *testing.T) {
	if pixelsField() < 0 {
		t.Fatal("base64Captcha.ItemChar has no *image.NRGBA field named nrgba any more")
	}
}

func sqDistance(a, b color.NRGBA) int {
	dr, dg, db := int(a.R)-int(b.R), int(a.G)-int(b.G), int(a.B)-int(b.B)
	return dr*dr + dg*dg + db*db
}

// nearestDistance is how far c is from the palette colour closest to it.
func nearestDistance(p color.Palette, c color.NRGBA) int {
	best := 1 << 30
	for _, e := range p {
		best = min(best, sqDistance(c, color.NRGBAModel.Convert(e).(color.NRGBA)))
	}
	return best
}

// Every pixel shows the palette colour nearest to what base64Captcha drew:
// exactly the background and the flat colours of lines and glyphs, and the
// closest step for anti-aliased edges.
func TestRenderer_PixelsAreTheDrawnColoursNearestPaletteEntry(t *testing.T) {
	r := NewRenderer()
	driver := NewDriver()
	for range 20 {
		item, err := driver.DrawCaptcha("w8ej")
		if err != nil {
			t.Fatal(err)
		}
		data, err := r.Encode(item)
		if err != nil {
			t.Fatal(err)
		}
		got := decodePaletted(t, data)
		drawn, err := r.pixels(item)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Palette) < 5 || len(got.Palette) > maxColours {
			t.Fatalf("%d palette colours, want the background, lines and glyphs in at most %d", len(got.Palette), maxColours)
		}
		exact, total := 0, 0
		for y := range Height {
			for x := range Width {
				want := drawn.NRGBAAt(x, y)
				gotC := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA)
				if sqDistance(gotC, want) != nearestDistance(got.Palette, want) {
					t.Fatalf("pixel (%d,%d) drawn %v shows %v, not its nearest palette colour", x, y, want, gotC)
				}
				if gotC == want {
					exact++
				}
				total++
			}
		}
		// The background alone covers most of the picture.
		if exact < total*3/4 {
			t.Fatalf("only %d of %d pixels keep their exact colour", exact, total)
		}
	}
}

// Pictures with 2, 4, 16 and more colours are packed at 1, 2, 4 and 8 bits
// per pixel; each must decode to the indices written.
func TestPNGWriter_PacksEveryBitDepth(t *testing.T) {
	for _, colours := range []int{2, 3, 4, 16, 17, maxColours} {
		palette := make([]rgb, colours)
		for i := range palette {
			palette[i] = rgbOf(byte(i*7), byte(255-i*3), byte(i))
		}
		const w, h = 13, 5 // odd width: the last byte of a row is partly padding
		indices := make([]byte, w*h)
		for i := range indices {
			indices[i] = byte((i*31 + i/w) % colours)
		}
		data, err := newPNGWriter().encode(w, h, indices, palette)
		if err != nil {
			t.Fatal(err)
		}
		got := decodePaletted(t, data)
		if len(got.Palette) != colours {
			t.Fatalf("%d colours: decoded palette has %d", colours, len(got.Palette))
		}
		for y := range h {
			for x := range w {
				if got.ColorIndexAt(x, y) != indices[y*w+x] {
					t.Fatalf("%d colours: pixel (%d,%d) index %d, want %d", colours, x, y, got.ColorIndexAt(x, y), indices[y*w+x])
				}
			}
		}
		want := palette[1]
		if c := got.Palette[1].(color.RGBA); int(c.R) != want.r() || int(c.G) != want.g() || int(c.B) != want.b() {
			t.Fatalf("%d colours: palette entry 1 is %v, want %v", colours, c, want)
		}
	}
}

// Concurrent renders share pooled scratch memory; each must still get the
// bytes a lone render of its picture gives, and keep them after others ran.
func TestRenderer_ConcurrentRendersDoNotShareBuffers(t *testing.T) {
	r := NewRenderer()
	driver := NewDriver()
	const n = 32
	items := make([]base64Captcha.Item, n)
	want := make([][]byte, n)
	for i := range items {
		item, err := driver.DrawCaptcha("xy7q")
		if err != nil {
			t.Fatal(err)
		}
		items[i] = item
		if want[i], err = r.Encode(item); err != nil {
			t.Fatal(err)
		}
	}
	got := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			for range 4 {
				data, err := r.Encode(items[i])
				if err != nil {
					t.Error(err)
					return
				}
				got[i] = data
			}
			if _, err := r.Render(t.Context(), "mnp4"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range n {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("render %d differs from the same picture rendered alone", i)
		}
		decodePaletted(t, got[i])
	}
}

// A request that ends while every core is rendering gives up instead of
// waiting for a turn.
func TestRenderer_GivesUpWaitingWhenTheContextEnds(t *testing.T) {
	r := NewRenderer()
	for range cap(r.turns) {
		r.turns <- struct{}{}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := r.Render(ctx, "ab3k")
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
