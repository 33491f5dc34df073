package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"log/slog"
	"net"
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

func TestImageCode_IsANoStore240x80PNG(t *testing.T) {
	r := newRig(t, memoryStore(t))
	res := r.get("/image_codes/" + uuid.NewString() + "/")
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "image/png" || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, content type %q, cache control %q", res.status, res.header.Get("Content-Type"), res.header.Get("Cache-Control"))
	}
	img, err := png.Decode(bytes.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 240 || b.Dy() != 80 {
		t.Fatalf("image is %dx%d", b.Dx(), b.Dy())
	}
	if res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("missing X-Content-Type-Options")
	}
}

func TestImageCode_RejectsAUUIDThatIsNotOne(t *testing.T) {
	r := newRig(t, memoryStore(t))
	for _, id := range []string{"abc", "0f8fad5b-d9cb-469f-a165-70867728950", "%00", strings.Repeat("a", 300)} {
		want(t, r.get("/image_codes/"+id+"/"), http.StatusOK, httpapi.CodeParamError)
	}
}

func TestSMSFlow_HappyPathOverGETAndPOST(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		for _, variant := range []string{"get", "json", "form"} {
			t.Run(variant, func(t *testing.T) {
				mobile := newMobile()
				id, answer := r.captcha()
				var res response
				switch variant {
				case "get":
					res = r.get("/sms_codes/" + mobile + "/?uuid=" + id + "&image_code=" + strings.ToUpper(answer))
				case "json":
					res = r.post("/sms_codes/"+mobile+"/", "application/json", `{"uuid":"`+id+`","image_code":"`+answer+`"}`)
				case "form":
					res = r.post("/sms_codes/"+mobile+"/", "application/x-www-form-urlencoded", "uuid="+id+"&image_code="+answer)
				}
				want(t, res, http.StatusOK, httpapi.CodeOK)
				code := r.inbox.lastCode(t, "+86"+mobile)
				want(t, r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+code+`"}`), http.StatusOK, httpapi.CodeOK)
				want(t, r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+code+`"}`), http.StatusOK, httpapi.CodeSMSCodeError)
			})
		}
	})
}

func TestSMSFlow_NationalAndE164FormsAreOnePhone(t *testing.T) {
	r := newRig(t, memoryStore(t))
	mobile := newMobile()
	want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
	want(t, r.requestCode("%2B86"+mobile), http.StatusOK, httpapi.CodeThrottled)
	code := r.inbox.lastCode(t, "+86"+mobile)
	want(t, r.post("/sms_codes/+86"+mobile+"/verify/", "application/x-www-form-urlencoded", "sms_code="+code), http.StatusOK, httpapi.CodeOK)
}

func TestSMSFlow_ResendWithin60sIs4002WithRetryAfter(t *testing.T) {
	r := newRig(t, memoryStore(t))
	mobile := newMobile()
	want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
	res := r.requestCode(mobile)
	want(t, res, http.StatusOK, httpapi.CodeThrottled)
	if ra := res.header.Get("Retry-After"); ra != "60" && ra != "59" {
		t.Errorf("Retry-After %q, want about 60", ra)
	}
	if r.inbox.count() != 1 {
		t.Errorf("%d SMS sent, want 1", r.inbox.count())
	}
}

func TestSMSFlow_ImageCodeErrors(t *testing.T) {
	r := newRig(t, memoryStore(t))
	mobile := newMobile()
	id, answer := r.captcha()
	want(t, r.get("/sms_codes/"+mobile+"/?uuid="+id+"&image_code=wxyz"+answer), http.StatusOK, httpapi.CodeImageCodeError)
	// A wrong guess spends the challenge: the right answer no longer works.
	want(t, r.get("/sms_codes/"+mobile+"/?uuid="+id+"&image_code="+answer), http.StatusOK, httpapi.CodeImageCodeError)
	want(t, r.get("/sms_codes/"+mobile+"/?uuid="+uuid.NewString()+"&image_code=abcd"), http.StatusOK, httpapi.CodeImageCodeError)
	if r.inbox.count() != 0 {
		t.Error("an SMS was sent without a solved captcha")
	}
}

func TestSMSFlow_BadInputGets4xxWithRetcode(t *testing.T) {
	r := newRig(t, memoryStore(t))
	mobile := newMobile()
	id := uuid.NewString()
	cases := []struct {
		name   string
		res    func() response
		status int
		code   string
	}{
		{"missing uuid", func() response { return r.get("/sms_codes/" + mobile + "/?image_code=abcd") }, 200, httpapi.CodeParamError},
		{"missing image code", func() response { return r.get("/sms_codes/" + mobile + "/?uuid=" + id) }, 200, httpapi.CodeParamError},
		{"bad uuid", func() response { return r.get("/sms_codes/" + mobile + "/?uuid=x&image_code=abcd") }, 200, httpapi.CodeParamError},
		{"long image code", func() response {
			return r.get("/sms_codes/" + mobile + "/?uuid=" + id + "&image_code=" + strings.Repeat("a", 100))
		}, 200, httpapi.CodeParamError},
		{"bad mobile", func() response { return r.get("/sms_codes/12345/?uuid=" + id + "&image_code=abcd") }, 200, httpapi.CodeMobileError},
		{"letters as mobile", func() response { return r.get("/sms_codes/abcdefghijk/?uuid=" + id + "&image_code=abcd") }, 200, httpapi.CodeMobileError},
		{"malformed json", func() response { return r.post("/sms_codes/"+mobile+"/", "application/json", `{"uuid":`) }, 200, httpapi.CodeParamError},
		{"json array", func() response { return r.post("/sms_codes/"+mobile+"/", "application/json", `[1,2]`) }, 200, httpapi.CodeParamError},
		{"number for string", func() response {
			return r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":123456}`)
		}, 200, httpapi.CodeParamError},
		{"xml body", func() response { return r.post("/sms_codes/"+mobile+"/", "application/xml", `<a/>`) }, 415, httpapi.CodeParamError},
		{"missing sms code", func() response { return r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{}`) }, 200, httpapi.CodeParamError},
		{"short sms code", func() response {
			return r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"123"}`)
		}, 200, httpapi.CodeParamError},
		{"verify by GET", func() response { return r.get("/sms_codes/" + mobile + "/verify/") }, 404, httpapi.CodeParamError},
		{"unknown route", func() response { return r.get("/nope") }, 404, httpapi.CodeParamError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { want(t, c.res(), c.status, c.code) })
	}
}

func TestVerify_FiveWrongTriesBurnTheCode(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		mobile := newMobile()
		want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
		code := r.inbox.lastCode(t, "+86"+mobile)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for range 5 {
			want(t, r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+wrong+`"}`), http.StatusOK, httpapi.CodeSMSCodeError)
		}
		want(t, r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+code+`"}`), http.StatusOK, httpapi.CodeSMSCodeError)
	})
}

// failingStore answers every call with an outage.
type failingStore struct{}

func (failingStore) SaveChallenge(context.Context, domain.ChallengeID, string, time.Duration) error {
	return domain.ErrStoreUnavailable
}
func (failingStore) TakeChallenge(context.Context, domain.ChallengeID) (string, error) {
	return "", domain.ErrStoreUnavailable
}
func (failingStore) IssueCode(context.Context, domain.PhoneNumber, domain.NewCode) error {
	return domain.ErrStoreUnavailable
}
func (failingStore) CheckIssue(context.Context, domain.PhoneNumber, []domain.Quota) error {
	return domain.ErrStoreUnavailable
}
func (failingStore) AttemptCode(context.Context, domain.PhoneNumber, int) ([]byte, error) {
	return nil, domain.ErrStoreUnavailable
}
func (failingStore) WithdrawCode(context.Context, domain.PhoneNumber, []byte) error {
	return domain.ErrStoreUnavailable
}
func (failingStore) ConsumeCode(context.Context, domain.PhoneNumber, []byte) (bool, error) {
	return false, domain.ErrStoreUnavailable
}
func (failingStore) Ping(context.Context) error { return errors.New("dial tcp: connection refused") }

func TestStoreOutage_Is503With5000AndReadyzFails(t *testing.T) {
	r := newRig(t, failingStore{})
	want(t, r.get("/readyz"), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
	want(t, r.get("/healthz"), http.StatusOK, httpapi.CodeOK)
	want(t, r.get("/image_codes/"+uuid.NewString()+"/"), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
	want(t, r.get("/sms_codes/"+newMobile()+"/?uuid="+uuid.NewString()+"&image_code=abcd"), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
	want(t, r.post("/sms_codes/"+newMobile()+"/verify/", "application/json", `{"sms_code":"123456"}`), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
}

func TestOutboxRefusal_Is503AndThePhoneMayRetryAtOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		mobile := newMobile()
		r.inbox.err = domain.ErrOutboxFull
		want(t, r.requestCode(mobile), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
		r.inbox.mu.Lock()
		r.inbox.err = nil
		r.inbox.mu.Unlock()
		want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
	})
}

func TestLogs_NeverContainCodesOrAnswers(t *testing.T) {
	r := newRig(t, failingStore{})
	r.get("/sms_codes/" + newMobile() + "/?uuid=" + uuid.NewString() + "&image_code=sekret")
	r.post("/sms_codes/"+newMobile()+"/verify/", "application/json", `{"sms_code":"987654"}`)
	logs := r.logBuf.String()
	if logs == "" {
		t.Fatal("outages were not logged")
	}
	for _, secret := range []string{"sekret", "987654"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
}

// race runs fn n times at once and counts the answers by "status code",
// such as "200 4001"; a picture counts as "200 image".
func race(n int, fn func(i int) response) map[string]int {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		start = make(chan struct{})
		got   = map[string]int{}
	)
	for i := range n {
		wg.Go(func() {
			<-start
			res := fn(i)
			mu.Lock()
			got[res.key()]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return got
}

func TestRace_OneCaptchaAnswerBuysOneSMS(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		id, answer := r.captcha()
		got := race(32, func(int) response {
			// Different phones, so only the captcha can stop them.
			return r.get("/sms_codes/" + newMobile() + "/?uuid=" + id + "&image_code=" + answer)
		})
		if got["200 0"] != 1 || got["200 4001"] != 31 || r.inbox.count() != 1 {
			t.Fatalf("answers %v and %d SMS, want one 0, 31 4001s and one SMS", got, r.inbox.count())
		}
	})
}

func TestRace_OnePhoneGetsOneSMSPerInterval(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		mobile := newMobile()
		type solved struct{ id, answer string }
		captchas := make([]solved, 32)
		for i := range captchas {
			captchas[i].id, captchas[i].answer = r.captcha()
		}
		got := race(len(captchas), func(i int) response {
			return r.get("/sms_codes/" + mobile + "/?uuid=" + captchas[i].id + "&image_code=" + captchas[i].answer)
		})
		if got["200 0"] != 1 || got["200 4002"] != 31 || r.inbox.count() != 1 {
			t.Fatalf("answers %v and %d SMS, want one 0, 31 4002s and one SMS", got, r.inbox.count())
		}
	})
}

func TestRace_ParallelWrongGuessesStillBurnTheCode(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		mobile := newMobile()
		want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
		code := r.inbox.lastCode(t, "+86"+mobile)
		got := race(40, func(i int) response {
			guess := strings.Repeat(string(rune('0'+i%10)), 6)
			if guess == code {
				guess = "not-it"
			}
			return r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+guess+`"}`)
		})
		if got["200 0"] != 0 {
			t.Fatalf("answers %v: a wrong guess verified", got)
		}
		want(t, r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+code+`"}`), http.StatusOK, httpapi.CodeSMSCodeError)
	})
}

func TestRace_RightCodeVerifiesOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		mobile := newMobile()
		want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
		code := r.inbox.lastCode(t, "+86"+mobile)
		got := race(5, func(int) response {
			return r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+code+`"}`)
		})
		if got["200 0"] != 1 || got["200 4008"] != 4 {
			t.Fatalf("answers %v, want one 0 and four 4008s", got)
		}
	})
}

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
