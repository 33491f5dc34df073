package captcha

import (
	"bytes"
	"image/png"
	"sync"
	"testing"
)

func TestRenderer_DrawsA240x80PNG(t *testing.T) {
	img, err := NewRenderer().Render(t.Context(), "ab3k")
	if err != nil {
		t.Fatal(err)
	}
	if img.ContentType != "image/png" {
		t.Fatalf("content type %q, want image/png", img.ContentType)
	}
	decoded, err := png.Decode(bytes.NewReader(img.Data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := decoded.Bounds(); b.Dx() != Width || b.Dy() != Height {
		t.Fatalf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), Width, Height)
	}
}

func TestRenderer_RefusesEmptyText(t *testing.T) {
	if _, err := NewRenderer().Render(t.Context(), ""); err == nil {
		t.Fatal("want an error for empty text")
	}
}

func TestRenderer_IsSafeForConcurrentUse(t *testing.T) {
	r := NewRenderer()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := r.Render(t.Context(), "xy7q"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func BenchmarkRenderer_Render(b *testing.B) {
	r := NewRenderer()
	for b.Loop() {
		if _, err := r.Render(b.Context(), "xy7q"); err != nil {
			b.Fatal(err)
		}
	}
}
