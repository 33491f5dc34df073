package captcha_test

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/captcha"
	"github.com/lemonmall/verifyd/domain"
)

// wav is what a player reads from a WAV file's header.
type wav struct {
	format, channels, bits uint16
	rate                   uint32
	samples                int
}

// parseWAV checks the RIFF structure a player relies on and returns the
// format of the PCM data.
func parseWAV(t *testing.T, b []byte) wav {
	t.Helper()
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" || string(b[12:16]) != "fmt " || string(b[36:40]) != "data" {
		t.Fatalf("not a RIFF/WAVE file with fmt and data chunks: % x", b[:min(len(b), 44)])
	}
	if riff := binary.LittleEndian.Uint32(b[4:8]); int(riff) != len(b)-8 {
		t.Errorf("RIFF size %d, file has %d bytes after it", riff, len(b)-8)
	}
	data := int(binary.LittleEndian.Uint32(b[40:44]))
	if data+44 > len(b) || data+44+1 < len(b) {
		t.Errorf("data chunk of %d bytes in a file of %d", data, len(b))
	}
	return wav{
		format:   binary.LittleEndian.Uint16(b[20:22]),
		channels: binary.LittleEndian.Uint16(b[22:24]),
		rate:     binary.LittleEndian.Uint32(b[24:28]),
		bits:     binary.LittleEndian.Uint16(b[34:36]),
		samples:  data,
	}
}

func TestSpeaker_SpeaksDigitsAsAPlayablePCMWave(t *testing.T) {
	s := captcha.NewSpeaker()
	for _, lang := range []domain.Language{domain.English, domain.Chinese, "", "fr"} {
		audio, err := s.Speak(t.Context(), "048159", lang)
		if err != nil {
			t.Fatalf("%q: %v", lang, err)
		}
		if audio.ContentType != "audio/wav" {
			t.Errorf("%q: content type %q", lang, audio.ContentType)
		}
		w := parseWAV(t, audio.Data)
		if w.format != 1 || w.channels != 1 || w.rate != 8000 || w.bits != 8 {
			t.Errorf("%q: format %+v, want 8 kHz 8-bit mono PCM", lang, w)
		}
		// Six digits, each after a pause of 1 to 2 s.
		if d := time.Duration(w.samples) * time.Second / time.Duration(w.rate); d < 6*time.Second || d > 40*time.Second {
			t.Errorf("%q: %s of sound for six digits", lang, d)
		}
	}
}

func TestSpeaker_RefusesAnythingButDigits(t *testing.T) {
	s := captcha.NewSpeaker()
	for _, text := range []string{"", "12a4", "١٢٣", "12 4", ":"} {
		if _, err := s.Speak(t.Context(), text, domain.English); err == nil {
			t.Errorf("spoke %q", text)
		}
	}
}

func TestSpeaker_HonoursACancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := captcha.NewSpeaker().Speak(ctx, "123456", domain.English); err == nil {
		t.Fatal("spoke for a cancelled request")
	}
}

func TestSpeaker_IsSafeForConcurrentRequests(t *testing.T) {
	s := captcha.NewSpeaker()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lang := domain.English
			if i%2 == 0 {
				lang = domain.Chinese
			}
			if _, err := s.Speak(t.Context(), "123456", lang); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
