package captcha

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"github.com/mojocn/base64Captcha"
)

// stockRender is base64Captcha's own pipeline, the baseline: draw, then its
// 32-bit PNG.
func stockRender(driver *base64Captcha.DriverString, text string) ([]byte, error) {
	item, err := driver.DrawCaptcha(text)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := item.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// BenchmarkRender compares base64Captcha's stock pipeline with the renderer
// (same driver: size, fonts, lines), reporting the bytes per image too.
func BenchmarkRender(b *testing.B) {
	b.Run("stock", func(b *testing.B) {
		driver := NewDriver()
		size := 0
		for b.Loop() {
			data, err := stockRender(driver, "xy7q")
			if err != nil {
				b.Fatal(err)
			}
			size += len(data)
		}
		b.ReportMetric(float64(size)/float64(b.N), "B/image")
	})
	b.Run("new", func(b *testing.B) {
		r := NewRenderer()
		size := 0
		for b.Loop() {
			img, err := r.Render(b.Context(), "xy7q")
			if err != nil {
				b.Fatal(err)
			}
			size += len(img.Data)
		}
		b.ReportMetric(float64(size)/float64(b.N), "B/image")
	})
}

// BenchmarkEncode is the renderer's own share: encoding an already drawn
// captcha (16 different drawings in turn).
func BenchmarkEncode(b *testing.B) {
	r := NewRenderer()
	driver := NewDriver()
	items := make([]base64Captcha.Item, 16)
	for i := range items {
		item, err := driver.DrawCaptcha("xy7q")
		if err != nil {
			b.Fatal(err)
		}
		items[i] = item
	}
	i := 0
	for b.Loop() {
		if _, err := r.Encode(items[i%len(items)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRenderSpeedup times the stock pipeline and the renderer in
// alternating batches, so that whatever else runs on the machine slows both
// alike, and reports how many times faster the renderer is ("x-stock"). A
// collection before each batch, outside the timing, leaves no garbage from
// one batch for the other to pay for; a batch is long enough to pay for the
// collections its own allocations start. The renderer's own ns/op figure is
// BenchmarkRender/new's.
func BenchmarkRenderSpeedup(b *testing.B) {
	const batch = 32
	driver := NewDriver()
	r := NewRenderer()
	var stock, renderer time.Duration
	for b.Loop() {
		runtime.GC()
		t0 := time.Now()
		for range batch {
			if _, err := stockRender(driver, "xy7q"); err != nil {
				b.Fatal(err)
			}
		}
		stock += time.Since(t0)
		runtime.GC()
		t1 := time.Now()
		for range batch {
			if _, err := r.Render(b.Context(), "xy7q"); err != nil {
				b.Fatal(err)
			}
		}
		renderer += time.Since(t1)
	}
	b.ReportMetric(float64(stock)/float64(renderer), "x-stock")
}
