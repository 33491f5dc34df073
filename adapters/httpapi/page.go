package httpapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/lemonmall/verifyd/domain"
)

// webFiles is the registration page: index.html, a template rendered once
// per server, and the static files next to it, served under /static/.
//
//go:embed web
var webFiles embed.FS

// pageTemplate is parsed once, when the package loads; a broken template
// fails every test of the package rather than a request.
var pageTemplate = template.Must(template.ParseFS(webFiles, "web/index.html"))

// logSenderLine is the message of the log SMS sender's line, which the page
// tells developers to look for.
const logSenderLine = "sms (log sender, development only)"

// pageData is what index.html is rendered with. The page's script reads
// the values from data- attributes: the CSP forbids inline scripts.
type pageData struct {
	DevelopmentSMS bool
	DefaultRegion  string
	CaptchaLength  int
	AudioLength    int
	CodeLength     int
	ResendSeconds  int
	LogSenderLine  string
	L              localPage
}

// staticFile is one embedded file with the headers it is served with.
type staticFile struct {
	body        []byte
	contentType string
	etag        string
}

// staticTypes are the content types of the files the page may use; a file
// of another kind in web/ is not served.
var staticTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
	".png": "image/png",
}

// staticFiles maps a name under /static/ to its file, built once from the
// embedded web/ folder.
var staticFiles = func() map[string]staticFile {
	entries, err := fs.ReadDir(webFiles, "web")
	if err != nil {
		panic(fmt.Sprintf("httpapi: embedded web folder: %v", err))
	}
	files := make(map[string]staticFile, len(entries))
	for _, e := range entries {
		ct, ok := staticTypes[path.Ext(e.Name())]
		if e.IsDir() || !ok {
			continue
		}
		body, err := fs.ReadFile(webFiles, "web/"+e.Name())
		if err != nil {
			panic(fmt.Sprintf("httpapi: embedded %s: %v", e.Name(), err))
		}
		sum := sha256.Sum256(body)
		files[e.Name()] = staticFile{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}
	return files
}()

// pageRoutes serves the registration page at / and its files under
// /static/. The page is rendered here, once per language: it depends on the
// configuration and the request's language only.
func (s *Server) pageRoutes() {
	policy := s.deps.Policy
	pages := make(map[domain.Language][]byte, len(Languages()))
	var err error
	for _, lang := range Languages() {
		var l localPage
		l, err = newLocalPage(lang, policy.CaptchaLength, domain.SMSCodeLength)
		if err != nil {
			break
		}
		var buf bytes.Buffer
		err = pageTemplate.Execute(&buf, pageData{
			DevelopmentSMS: s.cfg.DevelopmentSMS,
			DefaultRegion:  strings.ToUpper(s.cfg.DefaultRegion),
			CaptchaLength:  policy.CaptchaLength,
			AudioLength:    domain.AudioCaptchaLength,
			CodeLength:     domain.SMSCodeLength,
			ResendSeconds:  int(policy.ResendInterval.Seconds()),
			LogSenderLine:  logSenderLine,
			L:              l,
		})
		if err != nil {
			break
		}
		pages[lang] = buf.Bytes()
	}
	if err != nil {
		// Cannot happen with the embedded template and these types; if it
		// does, the page answers 500 and the API keeps working.
		s.logger.Error("render registration page", "err", err)
		pages = nil
	}
	s.app.Get("/", func(c *fiber.Ctx) error {
		if pages == nil {
			return fmt.Errorf("registration page: %w", err)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Vary(fiber.HeaderAcceptLanguage)
		return c.Send(pages[s.lang(c)])
	})
	s.app.Get("/static/:name", serveStatic)
}

// serveStatic answers with an embedded file. Browsers revalidate it on each
// use (no-cache) and get a 304 while its ETag still matches, so a new
// binary's files are picked up at once without renaming them.
func serveStatic(c *fiber.Ctx) error {
	f, ok := staticFiles[c.Params("name")]
	if !ok {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderETag, f.etag)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), f.etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	return c.Send(f.body)
}

// etagMatches reads If-None-Match: a list of entity tags, weak ones
// included, or "*".
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
