package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
)

// ParseOrigin checks one web origin as configured for CORS and returns it
// the way browsers send it: lower-case scheme://host[:port], nothing more.
// Origins are compared exactly, so a path, a wildcard or a trailing slash
// could never match and is refused rather than silently ignored.
func ParseOrigin(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("origin %q: %w", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("origin %q: want http:// or https://", raw)
	case u.Host == "" || strings.Contains(u.Host, "*"):
		return "", fmt.Errorf("origin %q: want one exact host", raw)
	case u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || u.ForceQuery:
		return "", fmt.Errorf("origin %q: want scheme://host[:port] without a path, user, query or fragment", raw)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// origins is the set of web origins allowed to call verifyd from their
// pages: they get CORS headers on /api/v1/ and may send requests that spend
// a captcha or a code from another site.
type origins map[string]bool

func newOrigins(list []string) (origins, error) {
	o := make(origins, len(list))
	for _, raw := range list {
		origin, err := ParseOrigin(raw)
		if err != nil {
			return nil, err
		}
		o[origin] = true
	}
	return o, nil
}

func (o origins) allow(origin string) bool { return o[strings.ToLower(origin)] }

// corsExposedHeaders lists to scripts what a client needs besides the body.
const corsExposedHeaders = "Retry-After, X-Request-ID"

// corsFor answers CORS for the allowed origins only, with Fiber's middleware.
// It returns nil when no origin is allowed: then no CORS header is ever
// sent. A request from any other origin gets no CORS header either, and its
// preflight is refused, so a browser never lets that page read an answer.
// Credentials are never allowed: the API has no cookies to protect.
func corsFor(allow origins) fiber.Handler {
	if len(allow) == 0 {
		return nil
	}
	allowed := make([]string, 0, len(allow))
	for o := range allow {
		allowed = append(allowed, o)
	}
	fiberCORS := cors.New(cors.Config{
		AllowOrigins:     strings.Join(allowed, ","),
		AllowMethods:     "GET,POST",
		AllowHeaders:     "Accept, Accept-Language, Content-Type, X-Request-ID",
		ExposeHeaders:    corsExposedHeaders,
		AllowCredentials: false,
		MaxAge:           600,
	})
	return func(c *fiber.Ctx) error {
		origin := c.Get(fiber.HeaderOrigin)
		if origin == "" || allow.allow(origin) {
			return fiberCORS(c)
		}
		// Answers differ by origin: caches must key on it.
		c.Vary(fiber.HeaderOrigin)
		if c.Method() == fiber.MethodOptions && c.Get(fiber.HeaderAccessControlRequestMethod) != "" {
			return errOriginRefused
		}
		return c.Next()
	}
}

// errOriginRefused answers a request a browser made for a page of a site
// that may not use this one.
var errOriginRefused = fiber.NewError(http.StatusForbidden, "cross-site request refused")

// refuseCrossSite guards the routes that spend a captcha or a code. Any web
// page can make its visitors' browsers send a plain GET or a form POST to
// them, with a captcha answer the page's owner solved, and so spread the
// per-client SMS quota over its visitors' addresses. Browsers say where a
// request comes from in Sec-Fetch-Site (every current engine does); a
// cross-site one is refused unless its Origin is allowed. Same-site pages
// (another port or subdomain of the same site), clients that are not
// browsers, and browsers that predate the header are let through.
func refuseCrossSite(allow origins) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !strings.EqualFold(c.Get("Sec-Fetch-Site"), "cross-site") {
			return c.Next()
		}
		if origin := c.Get(fiber.HeaderOrigin); origin != "" && allow.allow(origin) {
			return c.Next()
		}
		return errOriginRefused
	}
}
