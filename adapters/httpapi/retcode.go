package httpapi

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/lemonmall/verifyd/domain"
)

// RETCODE values kept from the original service's response_code module.
const (
	CodeOK                 = "0"
	CodeImageCodeError     = "4001"
	CodeThrottled          = "4002"
	CodeParamError         = "4003"
	CodeMobileError        = "4007"
	CodeSMSCodeError       = "4008"
	CodeServiceUnavailable = "5000"
)

// Answer is the body of every JSON response.
type Answer struct {
	Code   string `json:"code"`
	ErrMsg string `json:"errmsg"`
}

// Outcome is how one kind of error is answered: the HTTP status a REST API
// gives it, the seed's RETCODE and the text shown to the user.
type Outcome struct {
	// Status is the real HTTP status: what /api/v1 answers. The seed's
	// routes answer SeedStatus instead.
	Status  int
	Code    string
	Message MessageKey
	// Field is the parameter a MsgInvalidParam names.
	Field string
	// Protocol marks refusals of HTTP itself (unknown route, method, size,
	// media type, timeout), which keep their status on every route.
	Protocol bool
	// Known is false for an error the table does not know: it is logged and
	// answered 500 without its details.
	Known bool
}

// OutcomeOf is the one place where errors become answers. Wrong, expired,
// used and burned SMS codes share one answer on purpose: the difference would
// only help someone guessing. A spent or expired captcha is told apart from a
// wrong answer, as the seed does: either way the attempt is spent.
func OutcomeOf(err error) Outcome {
	var invalid *domain.InvalidInputError
	var fe *fiber.Error
	switch {
	case errors.As(err, &invalid):
		if invalid.Reason == domain.ReasonRequired {
			return Outcome{Status: http.StatusBadRequest, Code: CodeParamError, Message: MsgMissingParams, Known: true}
		}
		return Outcome{Status: http.StatusBadRequest, Code: CodeParamError, Message: MsgInvalidParam, Field: invalid.Field, Known: true}
	case errors.Is(err, domain.ErrInvalidPhone):
		return Outcome{Status: http.StatusBadRequest, Code: CodeMobileError, Message: MsgInvalidMobile, Known: true}
	case errors.Is(err, domain.ErrChallengeNotFound):
		// Only /api/v1/'s refresh and audio name a challenge that must
		// exist (the request for a code answers ErrImageCodeExpired): the id
		// is gone, so the client needs a new captcha.
		return Outcome{Status: http.StatusNotFound, Code: CodeImageCodeError, Message: MsgImageCodeExpired, Known: true}
	case errors.Is(err, domain.ErrImageCodeExpired):
		return Outcome{Status: http.StatusBadRequest, Code: CodeImageCodeError, Message: MsgImageCodeExpired, Known: true}
	case errors.Is(err, domain.ErrImageCodeMismatch):
		return Outcome{Status: http.StatusBadRequest, Code: CodeImageCodeError, Message: MsgImageCodeWrong, Known: true}
	case errors.Is(err, domain.ErrSMSCodeMismatch):
		return Outcome{Status: http.StatusBadRequest, Code: CodeSMSCodeError, Message: MsgSMSCodeWrong, Known: true}
	case errors.As(err, new(*domain.ThrottledError)):
		return Outcome{Status: http.StatusTooManyRequests, Code: CodeThrottled, Message: MsgTooManyRequests, Known: true}
	case errors.Is(err, domain.ErrStoreUnavailable), errors.Is(err, domain.ErrOutboxFull),
		errors.Is(err, context.DeadlineExceeded):
		return Outcome{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: MsgServiceUnavailable, Known: true}
	case errors.As(err, &fe):
		return fiberOutcome(fe)
	}
	return Outcome{Status: http.StatusInternalServerError, Code: CodeServiceUnavailable, Message: MsgInternalError}
}

// SeedStatus is the status the seed's routes answer with: 200 for every
// business outcome, because the seed's page (axios) shows errmsg only from
// a 2xx answer; outages and refusals of HTTP itself keep theirs, as Django's
// would.
func (o Outcome) SeedStatus() int {
	if o.Protocol || o.Status >= 500 {
		return o.Status
	}
	return http.StatusOK
}

// on refines an outcome for the route that answers it: a refusal of an SMS
// request says so in the seed's words.
func (o Outcome) on(route string) Outcome {
	if o.Code == CodeThrottled && route == routeSMS {
		o.Message = MsgSMSTooFrequent
	}
	return o
}

func fiberOutcome(fe *fiber.Error) Outcome {
	o := Outcome{Status: fe.Code, Code: CodeParamError, Protocol: true, Known: true}
	switch fe.Code {
	case http.StatusNotFound:
		o.Message = MsgNotFound
	case http.StatusForbidden:
		o.Message = MsgCrossSite
	case http.StatusMethodNotAllowed:
		o.Message = MsgMethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		o.Message = MsgBodyTooLarge
	case http.StatusRequestHeaderFieldsTooLarge, http.StatusRequestURITooLong:
		o.Message = MsgRequestTooLarge
	case http.StatusUnsupportedMediaType:
		o.Message = MsgUnsupportedBody
	case http.StatusRequestTimeout:
		o.Message = MsgRequestTimeout
	default:
		if fe.Code >= 400 && fe.Code < 500 {
			o.Message = MsgBadRequest
			return o
		}
		return Outcome{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: MsgServiceUnavailable, Known: true}
	}
	return o
}

// Text is the outcome's message in lang, naming its field if it has one.
func (o Outcome) Text(m *Messages, lang domain.Language) string {
	if o.Message == MsgInvalidParam {
		return m.Format(o.Message, lang, o.Field)
	}
	return m.Text(o.Message, lang)
}

// isSeedRoute tells the routes kept from the seed, which answer SeedStatus.
func isSeedRoute(route string) bool {
	return route == routeImage || route == routeSMS || route == routeVerify
}

// errorHandler answers every error returned by a handler or by Fiber itself.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	route := routeOf(c)
	o := OutcomeOf(err).on(route)
	if !o.Known {
		// Logged once here, answered without internals.
		s.logger.ErrorContext(c.UserContext(), "unhandled error", "request_id", RequestID(c.UserContext()), "route", route, "err", err)
	} else if o.Status == http.StatusServiceUnavailable {
		s.logger.WarnContext(c.UserContext(), "dependency unavailable", "request_id", RequestID(c.UserContext()), "route", route, "err", err)
	}
	var te *domain.ThrottledError
	if errors.As(err, &te) {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retryAfterSeconds(te)))
	}
	status := o.Status
	if isSeedRoute(route) {
		status = o.SeedStatus()
	}
	lang := s.lang(c)
	if route == routeImage && o.Code == CodeThrottled {
		// An <img> cannot show JSON: the page gets a picture of the refusal.
		return s.refusalImage(c, lang, o.Message)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Vary(fiber.HeaderAcceptLanguage)
	return c.Status(status).JSON(Answer{Code: o.Code, ErrMsg: o.Text(s.msgs, lang)})
}

// retryAfterSeconds rounds up: "Retry-After: 0" would invite an immediate,
// refused retry.
func retryAfterSeconds(te *domain.ThrottledError) int {
	s := int(math.Ceil(te.RetryAfter.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}

// localUnmatched marks a request that only the not-found fallback answered.
const localUnmatched = "verifyd.unmatched"

// routeOf is the pattern of the route that answered, or "unmatched".
func routeOf(c *fiber.Ctx) string {
	if unmatched, _ := c.Locals(localUnmatched).(bool); unmatched {
		return "unmatched"
	}
	if r := c.Route(); r != nil && r.Path != "" {
		return r.Path
	}
	return "unmatched"
}
