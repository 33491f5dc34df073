package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/lemonmall/verifyd/domain"
)

// fields reads named string fields from the query string (GET) or from a
// JSON or form body (POST), never both: fasthttp's FormValue would let a
// query string override a POST's body. Values are copied: Fiber reuses
// request memory once the handler returns.
func fields(c *fiber.Ctx, names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	if c.Method() != http.MethodPost {
		for _, n := range names {
			out[n] = strings.Clone(c.Query(n))
		}
		return out, nil
	}
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(c.Get(fiber.HeaderContentType), ";", 2)[0]))
	switch ct {
	case fiber.MIMEApplicationJSON:
		var body map[string]any
		if err := json.Unmarshal(c.Body(), &body); err != nil {
			return nil, &domain.InvalidInputError{Field: "body", Reason: "is not a JSON object"}
		}
		for _, n := range names {
			v, ok := body[n]
			if !ok || v == nil {
				continue
			}
			s, ok := v.(string)
			if !ok {
				return nil, &domain.InvalidInputError{Field: n, Reason: "must be a string"}
			}
			out[n] = s
		}
	case fiber.MIMEApplicationForm:
		args := c.Request().PostArgs()
		for _, n := range names {
			out[n] = string(args.Peek(n))
		}
	case fiber.MIMEMultipartForm:
		// A malformed multipart body reads as missing fields (4003).
		form, err := c.MultipartForm()
		if err != nil {
			return out, nil
		}
		for _, n := range names {
			if v := form.Value[n]; len(v) > 0 {
				out[n] = strings.Clone(v[0])
			}
		}
	case "":
		if len(c.Body()) > 0 {
			return nil, fiber.ErrUnsupportedMediaType
		}
	default:
		return nil, fiber.ErrUnsupportedMediaType
	}
	return out, nil
}
