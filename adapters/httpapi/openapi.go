package httpapi

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"

	"github.com/gofiber/fiber/v2"
)

// openAPIDocument describes every route of verifyd, the seed's and
// /api/v1/'s, in OpenAPI 3.1. It is served at GET /api/v1/openapi.json for
// client generators, and the package's tests check every request and answer
// they make against it, so it cannot drift from the handlers.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns a copy of the document, for tools and tests.
func OpenAPIDocument() []byte { return append([]byte(nil), openAPIDocument...) }

// openAPIETag lets clients revalidate the document instead of downloading
// it again; it changes only with the binary.
var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDocument)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}()

func serveOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderETag, openAPIETag)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), openAPIETag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(openAPIDocument)
}
