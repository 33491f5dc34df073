package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/lemonmall/verifyd/domain"
)

// Recorder receives what the HTTP adapter observes about HTTP: requests,
// refusals and outages per route. Business outcomes (captchas issued, codes
// requested, verifications) are told by the use cases, through domain.Events.
// adapters/metrics implements both with Prometheus.
type Recorder interface {
	ObserveRequest(route, method string, status int, took time.Duration)
	Throttled(route string)
	StoreError(route string)
}

// Route patterns, the label under which requests are logged and counted:
// never the raw path, which holds phone numbers.
const (
	routeImage   = "/image_codes/:uuid/"
	routeSMS     = "/sms_codes/:mobile/"
	routeVerify  = "/sms_codes/:mobile/verify/"
	routeHealthz = "/healthz"
	routeReadyz  = "/readyz"
	routeMetrics = "/metrics"
)

const headerRequestID = "X-Request-ID"

type requestIDKey struct{}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// observe is the outermost middleware: it gives every request an id (the
// caller's X-Request-ID when it is sane), answers errors itself so the final
// status is known, then writes one log line and the metrics for the request.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	id := c.Get(headerRequestID)
	if !saneRequestID(id) {
		id = newRequestID()
	}
	c.Set(headerRequestID, id)
	c.SetUserContext(context.WithValue(c.UserContext(), requestIDKey{}, id))

	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			// Writing the error answer failed: the connection is gone.
			s.logger.Warn("cannot write error answer", "request_id", id, "err", herr)
		}
	}
	status := c.Response().StatusCode()
	took := time.Since(start)
	route := routeOf(c)
	// Fiber's method string points into memory reused by the next request;
	// metrics keep their label values.
	method := strings.Clone(c.Method())

	level := slog.LevelInfo
	switch {
	case status >= 500 && status != http.StatusServiceUnavailable:
		level = slog.LevelError
	case status == http.StatusServiceUnavailable:
		level = slog.LevelWarn
	case route == routeHealthz || route == routeReadyz || route == routeMetrics:
		level = slog.LevelDebug // probes and scrapes would drown the log
	}
	if s.logger.Enabled(c.UserContext(), level) {
		attrs := []slog.Attr{
			slog.String("request_id", id),
			slog.String("method", method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(took.Microseconds())/1000),
			slog.String("client", s.client(c).String()),
		}
		if err != nil {
			// The seed's routes answer most refusals 200: the RETCODE
			// tells a refused request from a served one.
			attrs = append(attrs, slog.String("code", OutcomeOf(err).on(route).Code))
		}
		s.logger.LogAttrs(c.UserContext(), level, "request", attrs...)
	}
	if r := s.deps.Metrics; r != nil {
		record(r, route, method, status, took, err)
	}
	return nil
}

func record(r Recorder, route, method string, status int, took time.Duration, err error) {
	r.ObserveRequest(route, method, status, took)
	// The seed's routes answer refusals with 200: the refusal comes from err.
	if errors.As(err, new(*domain.ThrottledError)) {
		r.Throttled(route)
	}
	if errors.Is(err, domain.ErrStoreUnavailable) || errors.Is(err, domain.ErrOutboxFull) || errors.Is(err, context.DeadlineExceeded) {
		r.StoreError(route)
	}
}

// saneRequestID accepts ids of up to 128 characters from a safe alphabet, so
// a caller cannot inject log syntax or huge values.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms
	return hex.EncodeToString(b[:])
}
