package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lemonmall/verifyd/adapters/captcha"
	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/adapters/logtest"
	"github.com/lemonmall/verifyd/adapters/memory"
	"github.com/lemonmall/verifyd/adapters/metrics"
	"github.com/lemonmall/verifyd/adapters/phonenumber"
	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/redis/redistest"
	"github.com/lemonmall/verifyd/adapters/system"
	"github.com/lemonmall/verifyd/application"
	"github.com/lemonmall/verifyd/domain"
)

// store is what the handlers' use cases need from a backend.
type store interface {
	domain.ChallengeStore
	domain.CodeStore
	Ping(ctx context.Context) error
}

// answerSpy remembers the captcha answers saved through it, standing in for
// the user who reads the image.
type answerSpy struct {
	store
	mu      sync.Mutex
	answers map[domain.ChallengeID]string
}

func (s *answerSpy) SaveChallenge(ctx context.Context, id domain.ChallengeID, answer string, ttl time.Duration) error {
	s.mu.Lock()
	s.answers[id] = answer
	s.mu.Unlock()
	return s.store.SaveChallenge(ctx, id, answer, ttl)
}

// count is how many captchas were saved.
func (s *answerSpy) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.answers)
}

func (s *answerSpy) answer(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answers[domain.ChallengeID(id)]
}

// inbox is an outbox that delivers at once into a list, standing in for the
// user's phone.
type inbox struct {
	mu   sync.Mutex
	msgs []domain.SMSMessage
	err  error
}

func (b *inbox) Enqueue(_ context.Context, m domain.SMSMessage) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	b.msgs = append(b.msgs, m)
	return nil
}

func (b *inbox) lastCode(t *testing.T, e164 string) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.msgs) - 1; i >= 0; i-- {
		if b.msgs[i].To.E164() == e164 {
			return string(b.msgs[i].Code)
		}
	}
	t.Fatalf("no SMS to %s", e164)
	return ""
}

func (b *inbox) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs)
}

type rig struct {
	t      testing.TB
	srv    *httpapi.Server
	spy    *answerSpy
	inbox  *inbox
	logBuf *logtest.Buffer
}

// rigOptions changes what newRigWith builds; the zero value is newRig's.
type rigOptions struct {
	limiter domain.RateLimiter // default: a memory limiter
	limits  domain.Limits      // default: none
	resend  time.Duration      // default: the policy's 60 s
	cfg     httpapi.Config
	metrics *metrics.Metrics // default: none
}

// newRig builds a server without abuse limits: they have their own tests, and
// here every request comes from one test client and would trip them.
func newRig(t testing.TB, s store) *rig { return newRigWith(t, s, rigOptions{}) }

func newRigWith(t testing.TB, s store, o rigOptions) *rig {
	t.Helper()
	r := &rig{t: t, spy: &answerSpy{store: s, answers: map[domain.ChallengeID]string{}}, inbox: &inbox{}, logBuf: &logtest.Buffer{}}
	policy := domain.DefaultPolicy()
	digester, err := domain.NewCodeDigester([]byte("test-secret-test-secret-test-secret"))
	if err != nil {
		t.Fatal(err)
	}
	policy.Limits = o.limits
	if o.resend > 0 {
		policy.ResendInterval = o.resend
	}
	limiter := o.limiter
	if limiter == nil {
		limiter = memory.NewLimiter(system.Clock{})
	}
	var events domain.Events = noEvents{}
	if o.metrics != nil {
		events = o.metrics
	}
	issue, err := application.NewIssueImageChallenge(r.spy, captcha.NewRenderer(), system.Random{}, limiter, events, policy)
	if err != nil {
		t.Fatal(err)
	}
	request, err := application.NewRequestSMSCode(r.spy, r.spy, r.inbox, limiter, events, digester, system.Random{}, system.Clock{}, policy)
	if err != nil {
		t.Fatal(err)
	}
	verify, err := application.NewVerifySMSCode(r.spy, limiter, events, digester, policy)
	if err != nil {
		t.Fatal(err)
	}
	phones, err := phonenumber.NewParser("CN")
	if err != nil {
		t.Fatal(err)
	}
	deps := httpapi.Deps{
		IssueImageChallenge: issue, RequestSMSCode: request, VerifySMSCode: verify,
		Phones: phones, Policy: policy, Events: events, Ready: s.Ping, Logger: slog.New(slog.NewTextHandler(r.logBuf, nil)),
	}
	addAPIv1(t, &deps, r.spy, limiter, policy)
	if o.metrics != nil {
		deps.Metrics, deps.MetricsHandler = o.metrics, o.metrics.Handler()
	}
	r.srv, err = httpapi.NewServer(o.cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// noEvents is told of business outcomes by rigs that do not count them.
type noEvents struct{}

func (noEvents) CaptchaIssued()                    {}
func (noEvents) SMSCodeRequested()                 {}
func (noEvents) SMSCodeRefused(domain.SMSRefusal)  {}
func (noEvents) CodeVerified(domain.VerifyOutcome) {}

type response struct {
	status int
	header http.Header
	body   []byte
	answer httpapi.Answer
}

func (r *rig) do(req *http.Request) response {
	r.t.Helper()
	res, err := checkedTest(r.t, r.srv.App(), req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, body: body}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, &out.answer); err != nil {
			r.t.Fatalf("%s %s: body %q is not an answer: %v", req.Method, req.URL, body, err)
		}
	}
	return out
}

// key sums an answer up as "status code", or "status image" for a picture.
func (res response) key() string {
	if strings.HasPrefix(res.header.Get("Content-Type"), "image/") {
		return strconv.Itoa(res.status) + " image"
	}
	return strconv.Itoa(res.status) + " " + res.answer.Code
}

func (r *rig) get(path string) response {
	return r.do(httptest.NewRequest(http.MethodGet, path, nil))
}

func (r *rig) post(path, contentType, body string) response {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return r.do(req)
}

// captcha issues a challenge and returns its id and answer.
func (r *rig) captcha() (string, string) {
	r.t.Helper()
	id := uuid.NewString()
	if res := r.get("/image_codes/" + id + "/"); res.status != http.StatusOK {
		r.t.Fatalf("image code: status %d %s", res.status, res.body)
	}
	return id, r.spy.answer(id)
}

func (r *rig) requestCode(mobile string) response {
	id, answer := r.captcha()
	return r.get("/sms_codes/" + mobile + "/?" + url.Values{"uuid": {id}, "image_code": {answer}}.Encode())
}

func want(t *testing.T, res response, status int, code string) {
	t.Helper()
	if res.status != status || res.answer.Code != code {
		t.Fatalf("got %d %q (%s), want %d %q", res.status, res.answer.Code, res.body, status, code)
	}
	if res.answer.ErrMsg == "" {
		t.Errorf("answer without errmsg: %s", res.body)
	}
}

// newMobile returns a random CN mobile number, so tests sharing a Redis
// database do not meet each other's codes.
func newMobile() string {
	digits, err := system.Random{}.String(8, domain.Digits)
	if err != nil {
		panic(err)
	}
	return "139" + digits
}

func memoryStore(t testing.TB) store { return memory.NewStore(system.Clock{}) }

func redisStore(t *testing.T) store { return redis.NewStore(redistest.Client(t)) }

func forEachStore(t *testing.T, fn func(t *testing.T, newStore func(*testing.T) store)) {
	t.Run("memory", func(t *testing.T) { fn(t, func(t *testing.T) store { return memoryStore(t) }) })
	t.Run("redis", func(t *testing.T) { fn(t, redisStore) })
}
