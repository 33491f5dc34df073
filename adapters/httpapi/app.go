// Package httpapi is verifyd's HTTP interface, built on Fiber: the seed's
// routes, JSON answers with RETCODE strings, health and readiness probes.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/lemonmall/verifyd/application"
	"github.com/lemonmall/verifyd/domain"
)

// Config holds the HTTP server's limits. The zero value is usable: every zero
// field takes the default shown in DefaultConfig.
type Config struct {
	// RequestTimeout bounds the work done for one request, store calls
	// included, so an unreachable store answers 503 instead of piling up.
	RequestTimeout time.Duration
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration
	// BodyLimit is the largest request body accepted, in bytes.
	BodyLimit int
	// ShutdownTimeout bounds how long in-flight requests may take to finish.
	ShutdownTimeout time.Duration
	// DevelopmentSMS says codes go to the log SMS sender, so the web page can
	// tell a developer where to find them.
	DevelopmentSMS bool
	// DefaultRegion is the region national numbers are read in; the page
	// uses it to check numbers as they are typed.
	DefaultRegion string
	// TrustedProxies are the networks whose X-Forwarded-For is believed when
	// finding the client address for abuse limits. Empty trusts no one.
	TrustedProxies []netip.Prefix
	// Language answers requests whose Accept-Language names no language
	// verifyd speaks; zero means English.
	Language domain.Language
	// CORSOrigins are the web origins (scheme://host[:port]) whose pages may
	// call /api/v1/ and spend captchas and codes from another site.
	CORSOrigins []string
}

// DefaultConfig returns the limits used when a field is left zero.
func DefaultConfig() Config {
	return Config{
		RequestTimeout:  3 * time.Second,
		ReadTimeout:     5 * time.Second,
		WriteTimeout:    10 * time.Second,
		IdleTimeout:     60 * time.Second,
		BodyLimit:       4 << 10,
		ShutdownTimeout: 10 * time.Second,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = d.RequestTimeout
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = d.ReadTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.BodyLimit <= 0 {
		c.BodyLimit = d.BodyLimit
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = d.ShutdownTimeout
	}
	return c
}

// ReadinessCheck reports whether the service can do its work now, typically
// by pinging the store.
type ReadinessCheck func(ctx context.Context) error

// Deps are the use cases and collaborators the handlers call.
type Deps struct {
	IssueImageChallenge *application.IssueImageChallenge
	RequestSMSCode      *application.RequestSMSCode
	VerifySMSCode       *application.VerifySMSCode
	Phones              domain.PhoneParser
	// Policy is the one the use cases apply; the page shows its captcha
	// length and resend interval.
	Policy domain.Policy
	// Events, if set, is told of requests refused here, before a use case
	// saw them, for input that does not parse: the use cases tell it the rest.
	Events domain.Events
	Ready  ReadinessCheck
	Logger *slog.Logger
	// Metrics, if set, is told about every request; MetricsHandler, if set,
	// is served at GET /metrics.
	Metrics        Recorder
	MetricsHandler http.Handler

	// The versioned API's own use cases.
	IssueCaptcha          *application.IssueCaptcha
	RefreshImageChallenge *application.RefreshImageChallenge
	IssueAudioChallenge   *application.IssueAudioChallenge
}

// Server is the Fiber application with its routes.
type Server struct {
	app    *fiber.App
	cfg    Config
	deps   Deps
	logger *slog.Logger
	msgs   *Messages
}

// NewServer refuses missing dependencies.
func NewServer(cfg Config, deps Deps) (*Server, error) {
	if deps.IssueImageChallenge == nil || deps.RequestSMSCode == nil || deps.VerifySMSCode == nil ||
		deps.Phones == nil || deps.Ready == nil {
		return nil, errors.New("httpapi: missing dependency")
	}
	if err := checkAPIv1(cfg, deps); err != nil {
		return nil, err
	}
	if err := deps.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.Default()
	}
	cfg = cfg.withDefaults()
	msgs, err := NewMessages(cfg.Language)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, deps: deps, logger: logger, msgs: msgs}
	s.app = fiber.New(fiber.Config{
		AppName:               "verifyd",
		DisableStartupMessage: true,
		ErrorHandler:          s.errorHandler,
		BodyLimit:             cfg.BodyLimit,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		ReadBufferSize:        8 << 10,
		// Off: Fiber would decode the path as a query string, "+" becoming a
		// space. Path parameters are decoded with path rules by param.
		UnescapePath: false,
		// Multipart bodies are parsed only by the handlers that read form
		// fields, and a malformed one then reads as missing fields (4003).
		DisablePreParseMultipartForm: true,
	})
	s.routes()
	return s, nil
}

// App exposes the Fiber app, for tests (app.Test) and for embedding.
func (s *Server) App() *fiber.App { return s.app }

func (s *Server) routes() {
	a := s.app
	a.Use(s.observe)
	a.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
		s.logger.Error("panic in handler", "route", routeOf(c), "panic", fmt.Sprint(e))
	}}))
	a.Use(securityHeaders)
	a.Use(s.deadline)
	s.apiV1Routes()

	s.pageRoutes()
	a.Get(routeHealthz, s.healthz)
	a.Get(routeReadyz, s.readyz)
	if s.deps.MetricsHandler != nil {
		a.Get(routeMetrics, adaptor.HTTPHandler(s.deps.MetricsHandler))
	}
	// Add, not Get: Fiber's Get also answers HEAD, and link previews and
	// prefetchers send HEAD; it must not render captchas or send SMS.
	a.Add(fiber.MethodGet, routeImage, s.imageCode)
	a.Add(fiber.MethodGet, routeSMS, s.requestSMSCode)
	a.Post(routeSMS, s.requestSMSCode)
	a.Post(routeVerify, s.verifySMSCode(s.verifySMSCodeInput))
	a.Use(func(c *fiber.Ctx) error {
		c.Locals(localUnmatched, true)
		return fiber.ErrNotFound
	})
}

// Serve answers requests on ln until ctx is cancelled, then stops taking new
// connections and lets in-flight requests finish within ShutdownTimeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	if err := s.app.ShutdownWithTimeout(s.cfg.ShutdownTimeout); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return <-errc
}

// contentSecurityPolicy allows the page its own scripts, styles, images and
// API calls, captchas as the data: URIs /api/v1/ answers with, recordings
// played from blob: URLs (fetched once, so replaying does not change the
// digits), and nothing else: no inline code, no other origin.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func securityHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	return c.Next()
}

// deadline gives every request a bounded context, so a hung store call ends
// in a 503 instead of a goroutine waiting forever.
func (s *Server) deadline(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

// Messages is the catalogue the server answers with, for handlers added
// beside the seed's routes.
func (s *Server) Messages() *Messages { return s.msgs }

// lang is the language the request is answered in.
func (s *Server) lang(c *fiber.Ctx) domain.Language {
	return s.msgs.Match(c.Get(fiber.HeaderAcceptLanguage))
}

// ok answers success with the text of key in the request's language.
func (s *Server) ok(c *fiber.Ctx, key MessageKey) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Vary(fiber.HeaderAcceptLanguage)
	return c.JSON(Answer{Code: CodeOK, ErrMsg: s.msgs.Text(key, s.lang(c))})
}

func (s *Server) healthz(c *fiber.Ctx) error { return s.ok(c, MsgOK) }

func (s *Server) readyz(c *fiber.Ctx) error {
	if err := s.deps.Ready(c.UserContext()); err != nil {
		return fmt.Errorf("readiness: %w: %w", domain.ErrStoreUnavailable, err)
	}
	return s.ok(c, MsgOK)
}

func (s *Server) imageCode(c *fiber.Ctx) error {
	raw, err := param(c, "uuid")
	if err != nil {
		return err
	}
	id, err := domain.ParseChallengeID(raw)
	if err != nil {
		return err
	}
	img, err := s.deps.IssueImageChallenge.Handle(c.UserContext(), application.IssueImageChallengeInput{
		ID:       id,
		ClientIP: s.client(c),
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, img.ContentType)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(img.Data)
}

func (s *Server) phone(c *fiber.Ctx) (domain.PhoneNumber, error) {
	raw, err := param(c, "mobile")
	if err != nil {
		return domain.PhoneNumber{}, domain.ErrInvalidPhone
	}
	return s.deps.Phones.ParsePhone(raw)
}

func (s *Server) requestSMSCode(c *fiber.Ctx) error {
	if err := s.requestSMS(c, s.requestSMSCodeInput); err != nil {
		return err
	}
	return s.ok(c, MsgSMSSent)
}

// requestSMS asks for a code with the input parse reads from c; each API
// answers success its own way. Input refused before the use case runs is
// counted under the reason the use case would give, so both APIs count
// refusals alike.
func (s *Server) requestSMS(c *fiber.Ctx, parse func(*fiber.Ctx) (application.RequestSMSCodeInput, error)) error {
	in, err := parse(c)
	if err != nil {
		if s.deps.Events != nil {
			s.deps.Events.SMSCodeRefused(domain.SMSRefusedInvalid)
		}
		return err
	}
	return s.deps.RequestSMSCode.Handle(c.UserContext(), in)
}

func (s *Server) requestSMSCodeInput(c *fiber.Ctx) (application.RequestSMSCodeInput, error) {
	phone, err := s.phone(c)
	if err != nil {
		return application.RequestSMSCodeInput{}, err
	}
	in, err := fields(c, "uuid", "image_code")
	if err != nil {
		return application.RequestSMSCodeInput{}, err
	}
	id, err := domain.ParseChallengeID(in["uuid"])
	if err != nil {
		return application.RequestSMSCodeInput{}, err
	}
	imageCode, err := domain.ParseImageCode(in["image_code"])
	if err != nil {
		return application.RequestSMSCodeInput{}, err
	}
	return application.RequestSMSCodeInput{
		Phone:       phone,
		ChallengeID: id,
		ImageCode:   imageCode,
		ClientIP:    s.client(c),
		Lang:        s.lang(c),
	}, nil
}

// verifySMSCode returns the handler verifying the code that parse reads from
// the request: both APIs answer alike and differ only in where the input is.
// Input refused before the use case runs is counted as the use case would.
func (s *Server) verifySMSCode(parse func(*fiber.Ctx) (application.VerifySMSCodeInput, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		in, err := parse(c)
		if err != nil {
			if s.deps.Events != nil {
				s.deps.Events.CodeVerified(domain.VerifyInvalid)
			}
			return err
		}
		if err := s.deps.VerifySMSCode.Handle(c.UserContext(), in); err != nil {
			return err
		}
		return s.ok(c, MsgSMSVerified)
	}
}

func (s *Server) verifySMSCodeInput(c *fiber.Ctx) (application.VerifySMSCodeInput, error) {
	phone, err := s.phone(c)
	if err != nil {
		return application.VerifySMSCodeInput{}, err
	}
	in, err := fields(c, "sms_code")
	if err != nil {
		return application.VerifySMSCodeInput{}, err
	}
	code, err := domain.ParseSMSCode(in["sms_code"])
	if err != nil {
		return application.VerifySMSCodeInput{}, err
	}
	return application.VerifySMSCodeInput{Phone: phone, Code: code, ClientIP: s.client(c)}, nil
}

// param decodes a path parameter with path rules: "%2B" and a literal "+"
// are both "+" (a query-string decoder would make the latter a space, and
// the number another phone). The result is a new string: Fiber's points into
// request memory that is reused after the handler returns, and values here
// end up as map keys in the memory store.
func param(c *fiber.Ctx, name string) (string, error) {
	v, err := url.PathUnescape(c.Params(name))
	if err != nil {
		return "", &domain.InvalidInputError{Field: name, Reason: "is not a valid path segment"}
	}
	return strings.Clone(v), nil
}
