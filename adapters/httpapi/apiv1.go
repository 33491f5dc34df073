package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/lemonmall/verifyd/application"
	"github.com/lemonmall/verifyd/domain"
)

// Routes of the versioned API, for single-page and mobile apps: JSON in and
// out, ids chosen by the server, HTTP statuses that mean what they say.
const (
	routeV1Captchas = "/api/v1/captchas"
	routeV1Image    = "/api/v1/captchas/:id/image"
	routeV1Audio    = "/api/v1/captchas/:id/audio"
	routeV1SMS      = "/api/v1/sms-codes"
	routeV1Verify   = "/api/v1/sms-codes/verify"
	routeV1OpenAPI  = "/api/v1/openapi.json"
)

// checkAPIv1 refuses a server without the versioned API's use cases or with
// an origin that cannot be matched.
func checkAPIv1(cfg Config, deps Deps) error {
	if deps.IssueCaptcha == nil || deps.RefreshImageChallenge == nil || deps.IssueAudioChallenge == nil {
		return errors.New("httpapi: missing dependency")
	}
	if _, err := newOrigins(cfg.CORSOrigins); err != nil {
		return fmt.Errorf("httpapi: CORS: %w", err)
	}
	return nil
}

// apiV1Routes adds /api/v1/ and guards the seed's routes that spend a
// captcha or a code against cross-site use. It runs before the seed's routes
// are added, so the guard sees their requests first.
func (s *Server) apiV1Routes() {
	// NewServer checked the origins.
	allow, _ := newOrigins(s.cfg.CORSOrigins)
	guard := refuseCrossSite(allow)
	// Everything under /sms_codes/ spends a captcha (the request) or a code
	// (the verification).
	s.app.Use("/sms_codes/", guard)

	if h := corsFor(allow); h != nil {
		s.app.Use("/api/v1/", h)
	}
	a := s.app
	a.Get(routeV1OpenAPI, serveOpenAPI)
	a.Post(routeV1Captchas, s.v1IssueCaptcha)
	// Add, not Get: Fiber's Get also answers HEAD, which must not replace
	// a challenge.
	a.Add(fiber.MethodGet, routeV1Image, s.v1RefreshImage)
	a.Add(fiber.MethodGet, routeV1Audio, s.v1Audio)
	a.Post(routeV1SMS, guard, s.v1RequestSMSCode)
	a.Post(routeV1Verify, guard, s.verifySMSCode(s.v1VerifySMSCodeInput))
}

// v1Captcha is the answer to POST /api/v1/captchas.
type v1Captcha struct {
	Answer
	ID        string `json:"id"`
	Image     string `json:"image"`
	ExpiresIn int    `json:"expires_in"`
}

// v1SMSRequested is the answer to POST /api/v1/sms-codes.
type v1SMSRequested struct {
	Answer
	ResendAfter int `json:"resend_after"`
	ExpiresIn   int `json:"expires_in"`
}

func (s *Server) v1IssueCaptcha(c *fiber.Ctx) error {
	out, err := s.deps.IssueCaptcha.Handle(c.UserContext(), application.IssueCaptchaInput{ClientIP: s.client(c)})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Vary(fiber.HeaderAcceptLanguage)
	return c.Status(http.StatusCreated).JSON(v1Captcha{
		Answer:    Answer{Code: CodeOK, ErrMsg: s.msgs.Text(MsgOK, s.lang(c))},
		ID:        string(out.ID),
		Image:     "data:" + out.Image.ContentType + ";base64," + base64.StdEncoding.EncodeToString(out.Image.Data),
		ExpiresIn: int(out.ExpiresIn.Seconds()),
	})
}

// v1ChallengeID reads the {id} of a captcha route.
func v1ChallengeID(c *fiber.Ctx) (domain.ChallengeID, error) {
	raw, err := param(c, "id")
	if err != nil {
		return "", err
	}
	id, err := domain.ParseChallengeID(raw)
	return id, renameField(err, "id")
}

func (s *Server) v1RefreshImage(c *fiber.Ctx) error {
	id, err := v1ChallengeID(c)
	if err != nil {
		return err
	}
	img, err := s.deps.RefreshImageChallenge.Handle(c.UserContext(), application.RefreshImageChallengeInput{ID: id, ClientIP: s.client(c)})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, img.ContentType)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(img.Data)
}

func (s *Server) v1Audio(c *fiber.Ctx) error {
	id, err := v1ChallengeID(c)
	if err != nil {
		return err
	}
	var lang domain.Language
	switch l := c.Query("lang"); {
	case !c.Context().QueryArgs().Has("lang"):
		lang = s.lang(c)
	case l == string(domain.English) || l == string(domain.Chinese):
		lang = domain.Language(l)
	default:
		return &domain.InvalidInputError{Field: "lang", Reason: "must be en or zh"}
	}
	audio, err := s.deps.IssueAudioChallenge.Handle(c.UserContext(), application.IssueAudioChallengeInput{
		ID: id, Lang: lang, ClientIP: s.client(c),
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, audio.ContentType)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(audio.Data)
}

func (s *Server) v1RequestSMSCode(c *fiber.Ctx) error {
	if err := s.requestSMS(c, s.v1RequestSMSCodeInput); err != nil {
		return err
	}
	terms := s.deps.RequestSMSCode.Terms()
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Vary(fiber.HeaderAcceptLanguage)
	// 202: the code is queued for delivery, not yet delivered.
	return c.Status(http.StatusAccepted).JSON(v1SMSRequested{
		Answer:      Answer{Code: CodeOK, ErrMsg: s.msgs.Text(MsgSMSSent, s.lang(c))},
		ResendAfter: int(terms.ResendAfter.Seconds()),
		ExpiresIn:   int(terms.ExpiresIn.Seconds()),
	})
}

func (s *Server) v1RequestSMSCodeInput(c *fiber.Ctx) (application.RequestSMSCodeInput, error) {
	in, err := jsonFields(c, "mobile", "captcha_id", "captcha_answer")
	if err != nil {
		return application.RequestSMSCodeInput{}, err
	}
	phone, err := s.v1Phone(in["mobile"])
	if err != nil {
		return application.RequestSMSCodeInput{}, err
	}
	id, err := domain.ParseChallengeID(in["captcha_id"])
	if err != nil {
		return application.RequestSMSCodeInput{}, renameField(err, "captcha_id")
	}
	answer, err := domain.ParseImageCode(in["captcha_answer"])
	if err != nil {
		return application.RequestSMSCodeInput{}, renameField(err, "captcha_answer")
	}
	return application.RequestSMSCodeInput{
		Phone: phone, ChallengeID: id, ImageCode: answer, ClientIP: s.client(c), Lang: s.lang(c),
	}, nil
}

func (s *Server) v1VerifySMSCodeInput(c *fiber.Ctx) (application.VerifySMSCodeInput, error) {
	in, err := jsonFields(c, "mobile", "code")
	if err != nil {
		return application.VerifySMSCodeInput{}, err
	}
	phone, err := s.v1Phone(in["mobile"])
	if err != nil {
		return application.VerifySMSCodeInput{}, err
	}
	code, err := domain.ParseSMSCode(in["code"])
	if err != nil {
		return application.VerifySMSCodeInput{}, renameField(err, "code")
	}
	return application.VerifySMSCodeInput{Phone: phone, Code: code, ClientIP: s.client(c)}, nil
}

// v1Phone parses the mobile field; a missing one is a missing field, not an
// invalid number.
func (s *Server) v1Phone(raw string) (domain.PhoneNumber, error) {
	if strings.TrimSpace(raw) == "" {
		return domain.PhoneNumber{}, &domain.InvalidInputError{Field: "mobile", Reason: domain.ReasonRequired}
	}
	return s.deps.Phones.ParsePhone(raw)
}

// jsonFields reads named string fields from a JSON object body, the only
// body the versioned API takes. Values are copied out of Fiber's buffers by
// the decoder.
func jsonFields(c *fiber.Ctx, names ...string) (map[string]string, error) {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(c.Get(fiber.HeaderContentType), ";", 2)[0]))
	if ct != fiber.MIMEApplicationJSON {
		return nil, fiber.ErrUnsupportedMediaType
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(c.Body(), &body); err != nil || body == nil {
		return nil, &domain.InvalidInputError{Field: "body", Reason: "is not a JSON object"}
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		raw, ok := body[n]
		if !ok || string(raw) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, &domain.InvalidInputError{Field: n, Reason: "must be a string"}
		}
		out[n] = s
	}
	return out, nil
}

// renameField makes an input error name the field as this API calls it:
// the domain's parsers speak the seed's names (uuid, image_code, sms_code).
func renameField(err error, field string) error {
	var invalid *domain.InvalidInputError
	if errors.As(err, &invalid) {
		return &domain.InvalidInputError{Field: field, Reason: invalid.Reason}
	}
	return err
}
