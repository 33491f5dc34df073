package httpapi

import (
	"context"
	"errors"
	"log/slog"
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

// failure is how one kind of error is answered.
type failure struct {
	status int
	code   string
	msg    string
}

// failureFor is the one place where errors become HTTP answers. Wrong, expired
// and used codes share one answer on purpose: the difference would only help
// someone guessing.
func failureFor(err error) (failure, bool) {
	var invalid *domain.InvalidInputError
	var fe *fiber.Error
	switch {
	case errors.As(err, &invalid):
		return failure{http.StatusBadRequest, CodeParamError, invalid.Error()}, true
	case errors.Is(err, domain.ErrInvalidPhone):
		return failure{http.StatusBadRequest, CodeMobileError, "Invalid mobile number"}, true
	case errors.Is(err, domain.ErrImageCodeMismatch):
		return failure{http.StatusBadRequest, CodeImageCodeError, "Image code is wrong or has expired"}, true
	case errors.Is(err, domain.ErrSMSCodeMismatch):
		return failure{http.StatusBadRequest, CodeSMSCodeError, "SMS code is wrong or has expired"}, true
	case errors.As(err, new(*domain.ThrottledError)):
		return failure{http.StatusTooManyRequests, CodeThrottled, "Too many requests, please retry later"}, true
	case errors.Is(err, domain.ErrStoreUnavailable), errors.Is(err, domain.ErrOutboxFull),
		errors.Is(err, context.DeadlineExceeded):
		return failure{http.StatusServiceUnavailable, CodeServiceUnavailable, "Service temporarily unavailable, please retry later"}, true
	case errors.As(err, &fe):
		return fiberFailure(fe), true
	}
	return failure{http.StatusInternalServerError, CodeServiceUnavailable, "Internal error"}, false
}

func fiberFailure(fe *fiber.Error) failure {
	switch fe.Code {
	case http.StatusNotFound:
		return failure{fe.Code, CodeParamError, "Not found"}
	case http.StatusMethodNotAllowed:
		return failure{fe.Code, CodeParamError, "Method not allowed"}
	case http.StatusRequestEntityTooLarge:
		return failure{fe.Code, CodeParamError, "Request body too large"}
	case http.StatusRequestHeaderFieldsTooLarge, http.StatusRequestURITooLong:
		return failure{fe.Code, CodeParamError, "Request too large"}
	case http.StatusUnsupportedMediaType:
		return failure{fe.Code, CodeParamError, "Body must be JSON or a form"}
	case http.StatusRequestTimeout:
		return failure{fe.Code, CodeParamError, "Request timeout"}
	}
	if fe.Code >= 400 && fe.Code < 500 {
		return failure{fe.Code, CodeParamError, http.StatusText(fe.Code)}
	}
	return failure{http.StatusServiceUnavailable, CodeServiceUnavailable, "Service temporarily unavailable, please retry later"}
}

// errorHandler answers every error returned by a handler or by Fiber itself.
func errorHandler(logger *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		f, known := failureFor(err)
		if !known {
			// Logged once here, answered without internals.
			logger.ErrorContext(c.UserContext(), "unhandled error", "request_id", RequestID(c.UserContext()), "route", routeOf(c), "err", err)
		} else if f.status == http.StatusServiceUnavailable {
			logger.WarnContext(c.UserContext(), "dependency unavailable", "request_id", RequestID(c.UserContext()), "route", routeOf(c), "err", err)
		}
		var te *domain.ThrottledError
		if errors.As(err, &te) {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retryAfterSeconds(te)))
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Status(f.status).JSON(Answer{Code: f.code, ErrMsg: f.msg})
	}
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
