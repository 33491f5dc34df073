// Package sendertest is the contract every domain.SMSSender that talks to a
// provider over HTTP must meet, run against a local server speaking that
// provider's wire format: the message reaches the provider with the number
// and the code, each class of provider answer maps to the right
// domain.SendError, timeouts and cancellation are retryable, and neither the
// full number nor the code ever shows in an error or a log line.
package sendertest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/logtest"
	"github.com/lemonmall/verifyd/domain"
)

// Class is how a sender must classify a provider answer.
type Class int

// Answer classes.
const (
	Accepted  Class = iota // the provider took the message
	Retryable              // a *domain.SendError with Retryable set
	Permanent              // a *domain.SendError without it
)

func (c Class) String() string {
	return [...]string{"accepted", "retryable", "permanent"}[c]
}

// Reply is one answer the fake provider gives, in its own wire format.
type Reply struct {
	// Name says what the answer is ("throttled", "invalid number", ...).
	Name  string
	Class Class
	// Write answers the request; it may quote the number or the code back,
	// as providers do in error messages. to and code are what the request
	// carried.
	Write func(w http.ResponseWriter, to, code string)
}

// Request is what the fake provider read from one request.
type Request struct {
	// To is the number as the provider's wire format carries it.
	To string
	// Code is the 6-digit code found in the template parameters or text.
	Code string
}

// Provider describes one sender and its provider's wire format.
type Provider struct {
	// Name is the provider name in receipts and errors.
	Name string
	// NewSender returns a sender calling the API at baseURL, each call
	// bounded by timeout.
	NewSender func(t *testing.T, baseURL string, timeout time.Duration) domain.SMSSender
	// Parse checks one request as the provider would (method, path,
	// authentication or signature) and returns what it carried; an error
	// fails the test.
	Parse func(r *http.Request) (Request, error)
	// WireTo is the number as the request must carry it, given E.164.
	WireTo func(e164 string) string
	// Replies lists the provider's answers: at least one of each class.
	Replies []Reply
}

// Run checks p's sender against the contract. It replaces slog's default
// logger while it runs, to catch SDKs or senders logging secrets, so it must
// not run in parallel with other tests of the package.
func Run(t *testing.T, p Provider) {
	logs := &logtest.Buffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() {
		slog.SetDefault(prev)
		if out := logs.String(); containsSecret(out) {
			t.Errorf("a log line holds the number or the code:\n%s", out)
		}
	})

	classes := map[Class]bool{}
	for _, reply := range p.Replies {
		classes[reply.Class] = true
		t.Run(reply.Class.String()+"/"+reply.Name, func(t *testing.T) { testReply(t, p, reply) })
	}
	for _, c := range []Class{Accepted, Retryable, Permanent} {
		if !classes[c] {
			t.Errorf("no %s reply in the contract of %s", c, p.Name)
		}
	}
	t.Run("timeout", func(t *testing.T) { testTimeout(t, p) })
	t.Run("caller deadline", func(t *testing.T) { testCallerDeadline(t, p) })
	t.Run("network error", func(t *testing.T) { testNetworkError(t, p) })
}

// The message every case sends. Its number and code must not leak.
const (
	testE164 = "+8613812345678"
	testCode = "482913"
)

// Message is the message the suite sends: a CN mobile, the code 482913,
// valid 5 minutes, in lang.
func Message(t testing.TB, lang domain.Language) domain.SMSMessage {
	t.Helper()
	to, err := domain.NewPhoneNumber(testE164, "CN", domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	return domain.SMSMessage{ID: "msg0000000000000001", To: to, Code: testCode, Lang: lang, CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
}

func testReply(t *testing.T, p Provider, reply Reply) {
	var mu sync.Mutex
	var seen []Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := p.Parse(r)
		if err != nil {
			t.Errorf("the provider would refuse the request: %v", err)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		seen = append(seen, req)
		mu.Unlock()
		reply.Write(w, req.To, req.Code)
	}))
	defer srv.Close()
	s := p.NewSender(t, srv.URL, 5*time.Second)

	receipt, err := s.SendSMS(context.Background(), Message(t, domain.English))

	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 {
		t.Fatalf("provider got %d requests, want 1", len(seen))
	}
	if want := p.WireTo(testE164); seen[0].To != want || seen[0].Code != testCode {
		t.Errorf("provider got number %q code %q, want %q and %s", seen[0].To, seen[0].Code, want, testCode)
	}
	wantClass(t, p, reply.Class, receipt, err)
}

func wantClass(t *testing.T, p Provider, class Class, receipt domain.SMSReceipt, err error) {
	t.Helper()
	if class == Accepted {
		if err != nil || receipt.Provider != p.Name {
			t.Fatalf("got receipt %+v, error %v; want a receipt from %s", receipt, err, p.Name)
		}
		return
	}
	var se *domain.SendError
	if !errors.As(err, &se) {
		t.Fatalf("want a *domain.SendError, got %T %v", err, err)
	}
	if se.Provider != p.Name || se.Retryable != (class == Retryable) || domain.IsRetryableSend(err) != (class == Retryable) {
		t.Errorf("got %v (provider %q, retryable %v), want %s from %s", err, se.Provider, se.Retryable, class, p.Name)
	}
	wantNoSecrets(t, err)
}

// wantNoSecrets fails when the number (in any usual form) or the code shows
// anywhere in err's chain.
func wantNoSecrets(t *testing.T, err error) {
	t.Helper()
	for e := err; e != nil; e = errors.Unwrap(e) {
		if containsSecret(e.Error()) {
			t.Errorf("error text %q holds the number or the code", e.Error())
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				wantNoSecrets(t, inner)
			}
		}
	}
}

func containsSecret(s string) bool {
	return strings.Contains(s, testE164[3:]) || strings.Contains(s, testCode)
}

// blockingServer parses requests and never answers until the client gives up.
func blockingServer(t *testing.T, p Provider) *httptest.Server {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := p.Parse(r); err != nil {
			t.Errorf("the provider would refuse the request: %v", err)
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv
}

func testTimeout(t *testing.T, p Provider) {
	srv := blockingServer(t, p)
	s := p.NewSender(t, srv.URL, 100*time.Millisecond)
	_, err := s.SendSMS(context.Background(), Message(t, domain.English))
	if err == nil || !domain.IsRetryableSend(err) {
		t.Fatalf("a provider that does not answer: got %v, want a retryable error", err)
	}
	wantNoSecrets(t, err)
}

func testCallerDeadline(t *testing.T, p Provider) {
	srv := blockingServer(t, p)
	s := p.NewSender(t, srv.URL, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := s.SendSMS(ctx, Message(t, domain.English))
	if err == nil || !domain.IsRetryableSend(err) {
		t.Fatalf("caller deadline: got %v, want a retryable error", err)
	}
	wantNoSecrets(t, err)
}

func testNetworkError(t *testing.T, p Provider) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more
	s := p.NewSender(t, base, 5*time.Second)
	_, err := s.SendSMS(context.Background(), Message(t, domain.English))
	var se *domain.SendError
	if !errors.As(err, &se) || !se.Retryable || se.Provider != p.Name {
		t.Fatalf("connection refused: got %v, want a retryable *domain.SendError from %s", err, p.Name)
	}
	wantNoSecrets(t, err)
}
