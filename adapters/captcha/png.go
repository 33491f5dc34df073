package captcha

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/klauspost/compress/zlib"
)

// pngSignature starts every PNG file.
const pngSignature = "\x89PNG\r\n\x1a\n"

// pngWriter writes paletted PNGs. image/png would do, but it wants the
// palette as []color.Color (an allocation per colour per image) and scans the
// pixels once more to learn whether they are opaque; this writer knows both.
// Its buffers and compressor are reused, so it is not safe for concurrent
// use: the renderer keeps one per pooled frame.
type pngWriter struct {
	rows bytes.Buffer // the scanlines, each led by its filter byte
	idat bytes.Buffer // rows compressed
	zw   *zlib.Writer
}

func newPNGWriter() *pngWriter {
	// BestSpeed: the picture is mostly runs of one palette index, which the
	// fastest level already finds; higher levels cost several times the
	// time for a few per cent of size.
	zw, err := zlib.NewWriterLevel(nil, zlib.BestSpeed)
	if err != nil {
		panic(fmt.Sprintf("captcha: zlib level: %v", err)) // BestSpeed is always valid
	}
	return &pngWriter{zw: zw}
}

// bitDepth is the fewest bits per pixel that index n colours.
func bitDepth(n int) int {
	switch {
	case n <= 2:
		return 1
	case n <= 4:
		return 2
	case n <= 16:
		return 4
	}
	return 8
}

// encode returns a new PNG of a w x h picture whose pixels are indices (one
// byte each, row after row) into palette. The result is freshly allocated
// and exactly sized, so the caller may keep it while the writer is reused.
func (pw *pngWriter) encode(w, h int, indices []byte, palette []rgb) ([]byte, error) {
	depth := bitDepth(len(palette))
	perByte := 8 / depth
	rowBytes := (w + perByte - 1) / perByte
	pw.rows.Reset()
	pw.rows.Grow(h * (1 + rowBytes))
	for y := range h {
		// Filter type 0 (none): for a handful of indices, the others cost
		// time and, measured, saved nothing.
		pw.rows.WriteByte(0)
		src := indices[y*w : (y+1)*w]
		if depth == 8 {
			pw.rows.Write(src)
			continue
		}
		for x := 0; x < w; x += perByte {
			var packed byte
			for k := range perByte {
				packed <<= depth
				if x+k < w {
					packed |= src[x+k]
				}
			}
			pw.rows.WriteByte(packed)
		}
	}
	pw.idat.Reset()
	pw.zw.Reset(&pw.idat)
	if _, err := pw.zw.Write(pw.rows.Bytes()); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	if err := pw.zw.Close(); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}

	size := len(pngSignature) + (12 + 13) + (12 + 3*len(palette)) + (12 + pw.idat.Len()) + 12
	out := make([]byte, 0, size)
	out = append(out, pngSignature...)
	out = chunk(out, "IHDR", func(b []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(w))
		b = binary.BigEndian.AppendUint32(b, uint32(h))
		// bit depth, colour type 3 (palette), deflate, no filter, no interlace
		return append(b, byte(depth), 3, 0, 0, 0)
	})
	out = chunk(out, "PLTE", func(b []byte) []byte {
		for _, c := range palette {
			b = append(b, byte(c.r()), byte(c.g()), byte(c.b()))
		}
		return b
	})
	out = chunk(out, "IDAT", func(b []byte) []byte { return append(b, pw.idat.Bytes()...) })
	out = chunk(out, "IEND", func(b []byte) []byte { return b })
	return out, nil
}

// chunk appends a PNG chunk: length, type, the data body appends, CRC of
// type and data.
func chunk(out []byte, kind string, body func([]byte) []byte) []byte {
	start := len(out)
	out = append(out, 0, 0, 0, 0)
	out = append(out, kind...)
	out = body(out)
	binary.BigEndian.PutUint32(out[start:], uint32(len(out)-start-8))
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start+4:]))
}
