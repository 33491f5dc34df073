package httpapi_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/adapters/memory"
	"github.com/lemonmall/verifyd/adapters/system"
	"github.com/lemonmall/verifyd/domain"
)

// serve runs the server on a real loopback listener until the test ends.
func (r *rig) serve() string {
	r.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.srv.Serve(ctx, ln) }()
	r.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			r.t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func TestServe_RefusesOversizedBodiesWith413(t *testing.T) {
	r := newRig(t, memoryStore(t))
	base := r.serve()
	res, err := http.Post(base+"/sms_codes/"+newMobile()+"/", "application/json",
		strings.NewReader(`{"uuid":"`+strings.Repeat("a", 5<<10)+`"}`)) // the limit is 4 KiB
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a httpapi.Answer
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusRequestEntityTooLarge || a.Code != httpapi.CodeParamError {
		t.Fatalf("got %d %+v, want 413 4003", res.StatusCode, a)
	}
}

func TestServe_ShutdownLetsInFlightRequestsFinish(t *testing.T) {
	slow := &slowStore{store: memory.NewStore(system.Clock{}), entered: make(chan struct{}), release: make(chan struct{})}
	r := newRig(t, slow)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.srv.Serve(ctx, ln) }()

	status := make(chan int, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/image_codes/" + uuid.NewString() + "/")
		if err != nil {
			status <- -1
			return
		}
		res.Body.Close()
		status <- res.StatusCode
	}()
	<-slow.entered // the request is inside the handler
	cancel()
	close(slow.release)
	if got := <-status; got != http.StatusOK {
		t.Fatalf("in-flight request got %d, want 200", got)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
}

// slowStore holds SaveChallenge until released.
type slowStore struct {
	store
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (s *slowStore) SaveChallenge(ctx context.Context, id domain.ChallengeID, answer string, ttl time.Duration) error {
	s.once.Do(func() { close(s.entered) })
	<-s.release
	return s.store.SaveChallenge(ctx, id, answer, ttl)
}

func TestServe_RefusesOversizedURLsWithJSON(t *testing.T) {
	r := newRig(t, memoryStore(t))
	base := r.serve()
	// Request line and headers share an 8 KiB buffer.
	res, err := http.Get(base + "/sms_codes/13800138000/?uuid=" + strings.Repeat("a", 9<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a httpapi.Answer
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		t.Fatalf("status %d, body is not JSON: %v", res.StatusCode, err)
	}
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge || a.Code != httpapi.CodeParamError {
		t.Fatalf("got %d %+v, want 431 4003", res.StatusCode, a)
	}
}

func TestEveryAnswerCarriesSecurityHeaders(t *testing.T) {
	r := newRig(t, memoryStore(t))
	for _, path := range []string{"/healthz", "/nope", "/image_codes/" + uuid.NewString() + "/", "/sms_codes/1/"} {
		res := r.get(path)
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
			if res.header.Get(h) == "" {
				t.Errorf("%s: no %s", path, h)
			}
		}
		if strings.HasPrefix(res.header.Get("Content-Type"), "application/json") && res.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: API answer without Cache-Control: no-store", path)
		}
	}
}

func TestHEAD_NeverRendersACaptchaOrSendsAnSMS(t *testing.T) {
	r := newRig(t, memoryStore(t))
	id, answer := r.captcha()
	before := len(r.spy.answers)
	for _, path := range []string{"/image_codes/" + uuid.NewString() + "/", "/sms_codes/" + newMobile() + "/?uuid=" + id + "&image_code=" + answer} {
		res, err := checkedTest(t, r.srv.App(), httptest.NewRequest(http.MethodHead, path, nil))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Errorf("HEAD %s: %d", path, res.StatusCode)
		}
	}
	if len(r.spy.answers) != before || r.inbox.count() != 0 {
		t.Fatal("a HEAD request rendered a captcha or sent an SMS")
	}
}

func TestServe_AcceptsBodiesAndURLsJustUnderTheLimits(t *testing.T) {
	r := newRig(t, memoryStore(t))
	base := r.serve()
	res, err := http.Post(base+"/sms_codes/13800138000/", "application/json",
		strings.NewReader(`{"uuid":"`+strings.Repeat("a", 3<<10)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK { // read, then refused as a bad uuid (200 4003)
		t.Errorf("3 KiB body: %d, want 200", res.StatusCode)
	}
	res, err = http.Get(base + "/sms_codes/13800138000/?uuid=" + strings.Repeat("a", 6<<10))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("6 KiB URL: %d, want 200", res.StatusCode)
	}
}
