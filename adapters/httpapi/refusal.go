package httpapi

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/lemonmall/verifyd/domain"
)

// refusalImage answers a captcha request refused by a limit with a picture
// of the refusal, the size of a captcha, so a page that only sets an <img>
// src (the seed's does) shows why there is no captcha instead of a broken
// image. Retry-After is already set; /api/v1 answers such a request 429.
func (s *Server) refusalImage(c *fiber.Ctx, lang domain.Language, key MessageKey) error {
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Vary(fiber.HeaderAcceptLanguage)
	return c.Status(http.StatusOK).Send(refusalSVG(s.msgs.Text(key, lang)))
}

// refusalSVG draws text centred on a 240x80 card, broken into lines after
// its commas so it fits.
func refusalSVG(text string) []byte {
	lines := splitAfterCommas(text)
	var b strings.Builder
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="240" height="80" viewBox="0 0 240 80">`)
	b.WriteString(`<rect width="240" height="80" rx="6" fill="#fdecea" stroke="#d93025"/>`)
	const lineHeight = 18
	top := 40 - (len(lines)-1)*lineHeight/2
	for i, l := range lines {
		fmt.Fprintf(&b, `<text x="120" y="%d" text-anchor="middle" dominant-baseline="middle" `+
			`font-family="sans-serif" font-size="14" fill="#a50e0e">%s</text>`, top+i*lineHeight, html.EscapeString(l))
	}
	b.WriteString(`</svg>`)
	return []byte(b.String())
}

func splitAfterCommas(text string) []string {
	var lines []string
	for {
		i := strings.IndexAny(text, ",，")
		if i < 0 {
			break
		}
		_, size := utf8.DecodeRuneInString(text[i:])
		lines = append(lines, strings.TrimSpace(text[:i+size]))
		text = text[i+size:]
	}
	if t := strings.TrimSpace(text); t != "" {
		lines = append(lines, t)
	}
	return lines
}
