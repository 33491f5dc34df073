// Command ocr runs an OCR attack (tesseract) on captchas encoded by
// base64Captcha's own 32-bit PNG and by verifyd's paletted PNG, each pair
// from one drawing, and prints how often each is read. A cheaper encoding
// must not make the captcha easier to read by machine.
//
//	apt-get install tesseract-ocr
//	go run ./test/ocr -n 200 -out /tmp/ocr
//
// Two attacks per image: tesseract on the image as it is, and on a
// black-and-white version (every pixel darker than the background turned
// black), which removes colour and anti-aliasing. Side-by-side enlargements
// of the first drawings (stock above, new below) are written to -out for
// looking at.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/lemonmall/verifyd/adapters/captcha"
	"github.com/lemonmall/verifyd/domain"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ocr:", err)
		os.Exit(1)
	}
}

// attack names one way of feeding an image to tesseract.
type attack struct {
	name    string
	prepare func([]byte) ([]byte, error)
}

// result counts one encoding's readings under one attack.
type result struct{ solved, chars int }

func run() error {
	n := flag.Int("n", 200, "drawings (each encoded both ways)")
	out := flag.String("out", "", "directory for the images (default: a new temporary one)")
	samples := flag.Int("samples", 6, "side-by-side enlargements to write")
	tess := flag.String("tesseract", "tesseract", "tesseract binary")
	flag.Parse()
	if _, err := exec.LookPath(*tess); err != nil {
		return fmt.Errorf("%s not found (apt-get install tesseract-ocr): %w", *tess, err)
	}
	dir := *out
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "ocr-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	driver := captcha.NewDriver()
	renderer := captcha.NewRenderer()
	texts := make([]string, *n)
	images := map[string][][]byte{"stock": make([][]byte, *n), "new": make([][]byte, *n)}
	for i := range *n {
		texts[i] = randomText()
		item, err := driver.DrawCaptcha(texts[i])
		if err != nil {
			return err
		}
		var stock bytes.Buffer
		if _, err := item.WriteTo(&stock); err != nil {
			return err
		}
		paletted, err := renderer.Encode(item)
		if err != nil {
			return err
		}
		images["stock"][i], images["new"][i] = stock.Bytes(), paletted
		if i < *samples {
			if err := writeSideBySide(filepath.Join(dir, fmt.Sprintf("compare-%02d-%s.png", i, texts[i])), stock.Bytes(), paletted); err != nil {
				return err
			}
		}
	}

	attacks := []attack{
		{"as is", func(b []byte) ([]byte, error) { return b, nil }},
		{"black and white", blackAndWhite},
	}
	fmt.Printf("%d drawings, alphabet %q, tesseract --psm 7 with that alphabet as whitelist\n", *n, domain.CaptchaAlphabet)
	fmt.Printf("%-16s %-6s %10s %8s %12s\n", "attack", "image", "solved", "rate", "characters")
	for _, a := range attacks {
		for _, enc := range []string{"stock", "new"} {
			r, err := read(*tess, dir, enc, a, texts, images[enc])
			if err != nil {
				return err
			}
			fmt.Printf("%-16s %-6s %6d/%-3d %7.1f%% %11.1f%%\n", a.name, enc, r.solved, *n,
				100*float64(r.solved)/float64(*n), 100*float64(r.chars)/float64(4**n))
		}
	}
	fmt.Println("images and enlargements in", dir)
	return nil
}

// read runs tesseract on every image, two at a time, and counts the answers
// it got right (case-insensitive, as verifyd compares) and the characters
// right in place.
func read(tess, dir, enc string, a attack, texts []string, images [][]byte) (result, error) {
	var (
		mu   sync.Mutex
		res  result
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, 2)
	)
	for i := range images {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			got, err := readOne(tess, filepath.Join(dir, fmt.Sprintf("%s-%s-%03d.png", strings.ReplaceAll(a.name, " ", "-"), enc, i)), a, images[i])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			if got == texts[i] {
				res.solved++
			}
			for k := range min(len(got), len(texts[i])) {
				if got[k] == texts[i][k] {
					res.chars++
				}
			}
		})
	}
	wg.Wait()
	return res, errors.Join(errs...)
}

// readOne prepares an image for the attack, writes it to name and reads it.
func readOne(tess, name string, a attack, image []byte) (string, error) {
	data, err := a.prepare(image)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		return "", err
	}
	return ocr(tess, name)
}

func ocr(tess, file string) (string, error) {
	alphabet := domain.CaptchaAlphabet + strings.ToUpper(domain.CaptchaAlphabet)
	out, err := exec.Command(tess, file, "stdout", "--psm", "7", "-c", "tessedit_char_whitelist="+alphabet).Output()
	if err != nil {
		return "", fmt.Errorf("tesseract %s: %w", file, err)
	}
	return strings.ToLower(strings.Join(strings.Fields(string(out)), "")), nil
}

func randomText() string {
	b := make([]byte, 4)
	for i := range b {
		b[i] = domain.CaptchaAlphabet[rand.IntN(len(domain.CaptchaAlphabet))]
	}
	return string(b)
}

// blackAndWhite turns every pixel visibly darker than the background black
// and the rest white.
func blackAndWhite(data []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	bw := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y < 200 {
				bw.SetGray(x, y, color.Gray{})
			} else {
				bw.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	var buf bytes.Buffer
	err = png.Encode(&buf, bw)
	return buf.Bytes(), err
}

// writeSideBySide writes stock above new, three times enlarged.
func writeSideBySide(name string, stock, paletted []byte) error {
	a, err := png.Decode(bytes.NewReader(stock))
	if err != nil {
		return err
	}
	b, err := png.Decode(bytes.NewReader(paletted))
	if err != nil {
		return err
	}
	const k, gap = 3, 6
	w, h := a.Bounds().Dx(), a.Bounds().Dy()
	out := image.NewRGBA(image.Rect(0, 0, w*k, 2*h*k+gap))
	for y := range h * k {
		for x := range w * k {
			out.Set(x, y, a.At(x/k, y/k))
			out.Set(x, y+h*k+gap, b.At(x/k, y/k))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		return err
	}
	return os.WriteFile(name, buf.Bytes(), 0o644)
}
