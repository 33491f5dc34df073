package captcha

import (
	"encoding/binary"
	"image"
)

// A captcha is a light background, a few crossing lines and four glyphs, each
// in one flat colour; the only other colours are the glyphs' anti-aliased
// edges, which blend a colour into what lies beneath. So a palette of the
// background, each flat colour and a few steps from the background to it
// keeps the picture while letting it be stored with one byte per pixel
// instead of four, the main cost of base64Captcha's 32-bit PNG.
const (
	// maxBases bounds the flat colours kept. base64Captcha draws 3 lines
	// and 4 glyphs, but a shaded font and lines crossing glyphs add a few
	// more colours that are flat over many pixels; captchas measured used
	// 5 to 9.
	maxBases = 24
	// blendSteps is how many colours lie between the background and each
	// flat colour, for the glyphs' smooth edges.
	blendSteps = 3
	// maxColours is the palette's size at most.
	maxColours = 1 + maxBases*(1+blendSteps)
	// minBasePixels is how many pixels, in the rows sampled (every other
	// one), a colour must fill to count as a flat colour rather than an edge.
	minBasePixels = 8
	// minBaseDistance is how far (squared, in RGB) a flat colour must be
	// from every colour already in the palette; nearer ones are edges or a
	// second glyph of about the same colour and map to what is there.
	minBaseDistance = 10 * 10
	// tableBits sizes the colour table: distinct colours in one captcha
	// are a few hundred.
	tableBits = 12
	tableSize = 1 << tableBits
)

// rgb is an opaque colour: R, G, B, A from the least significant byte, as
// NRGBA pixels lie in memory. Alpha is always 0xff, so an rgb is never 0,
// which marks an empty slot of the colour table.
type rgb uint32

func rgbOf(r, g, b byte) rgb { return rgb(0xff<<24 | uint32(b)<<16 | uint32(g)<<8 | uint32(r)) }

func (c rgb) r() int { return int(c & 0xff) }
func (c rgb) g() int { return int(c >> 8 & 0xff) }
func (c rgb) b() int { return int(c >> 16 & 0xff) }

func distance(a, b rgb) int {
	dr, dg, db := a.r()-b.r(), a.g()-b.g(), a.b()-b.b()
	return dr*dr + dg*dg + db*db
}

// quantizer maps one picture's colours to a small palette. It is reused
// through a pool: every slice is sized once, and nothing is allocated per
// picture.
type quantizer struct {
	keys    [tableSize]rgb
	counts  [tableSize]uint32
	index   [tableSize]uint8
	used    []uint16 // occupied slots, in the order first seen
	palette []rgb
}

func newQuantizer() *quantizer {
	return &quantizer{
		used:    make([]uint16, 0, tableSize),
		palette: make([]rgb, 0, maxColours),
	}
}

// slot finds or adds c in the colour table; false when the table is full.
func (q *quantizer) slot(c rgb) (uint16, bool) {
	i := (uint32(c) * 0x9e3779b1) >> (32 - tableBits)
	for range tableSize {
		switch q.keys[i] {
		case c:
			return uint16(i), true
		case 0:
			q.keys[i] = c
			q.used = append(q.used, uint16(i))
			return uint16(i), true
		}
		i = (i + 1) & (tableSize - 1)
	}
	return 0, false
}

// quantize builds the palette for img and writes each pixel's palette index
// to dst, one byte per pixel, row after row. It reports false when the
// picture has more distinct colours than the table holds, which a captcha
// from base64Captcha never has.
func (q *quantizer) quantize(img *image.NRGBA, bg rgb, dst []byte) bool {
	clear(q.keys[:])
	clear(q.counts[:])
	q.used = q.used[:0]
	w, h := img.Rect.Dx(), img.Rect.Dy()
	row := func(y int) []byte { return img.Pix[y*img.Stride : y*img.Stride+4*w] }
	// The palette is chosen from every other row: flat colours fill
	// hundreds of pixels, lines cross every row they span, and the time
	// saved is a third of the encoding's.
	prev, prevSlot := rgb(0), uint16(0)
	for y := 0; y < h; y += 2 {
		pix := row(y)
		for x := 0; x < 4*w; x += 4 {
			c := pixel(pix[x:])
			// Neighbours mostly share a colour, so the previous pixel's
			// slot answers most lookups without hashing.
			if c != prev {
				s, ok := q.slot(c)
				if !ok {
					return false
				}
				prev, prevSlot = c, s
			}
			q.counts[prevSlot]++
		}
	}
	q.choosePalette(bg)
	for _, s := range q.used {
		q.index[s] = q.nearest(q.keys[s])
	}
	mapped := len(q.used)
	prev, prevIndex := rgb(0), uint8(0)
	for y := range h {
		pix, out := row(y), dst[y*w:(y+1)*w]
		for x := range out {
			if c := pixel(pix[4*x:]); c != prev {
				s, ok := q.slot(c)
				if !ok {
					return false
				}
				if len(q.used) > mapped { // a colour only the odd rows have
					q.index[s] = q.nearest(c)
					mapped++
				}
				prev, prevIndex = c, q.index[s]
			}
			out[x] = prevIndex
		}
	}
	return true
}

// pixel reads the colour of the NRGBA pixel at the start of p. Memory holds
// R, G, B, A; alpha is forced to 0xff, as the picture is opaque and 0 marks
// an empty slot.
func pixel(p []byte) rgb { return rgb(binary.LittleEndian.Uint32(p) | 0xff000000) }

// choosePalette takes the background, then the most used colours far enough
// from the palette so far, each with its blends towards the background.
func (q *quantizer) choosePalette(bg rgb) {
	q.palette = append(q.palette[:0], bg)
	for range maxBases {
		best, bestCount := rgb(0), uint32(minBasePixels-1)
		for _, s := range q.used {
			if n := q.counts[s]; n > bestCount && distance(q.keys[s], q.palette[q.nearest(q.keys[s])]) >= minBaseDistance {
				best, bestCount = q.keys[s], n
			}
		}
		if best == 0 {
			return
		}
		for step := 1; step <= blendSteps; step++ {
			q.palette = append(q.palette, blend(bg, best, step, blendSteps+1))
		}
		q.palette = append(q.palette, best)
	}
}

// blend is the colour num/den of the way from a to b.
func blend(a, b rgb, num, den int) rgb {
	mix := func(x, y int) byte { return byte((x*(den-num) + y*num + den/2) / den) }
	return rgbOf(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}

// nearest is the index of the palette colour closest to c.
func (q *quantizer) nearest(c rgb) uint8 {
	r, g, b := c.r(), c.g(), c.b()
	best, bestDist := 0, 1<<30
	for i, p := range q.palette {
		dr, dg, db := r-p.r(), g-p.g(), b-p.b()
		if d := dr*dr + dg*dg + db*db; d < bestDist {
			best, bestDist = i, d
		}
	}
	return uint8(best)
}
