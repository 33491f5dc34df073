package test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// queueGroup is the consumer group smsworker reads the stream through.
const queueGroup = "smsworker"

// queueRecoveryBound is how long verifyd and smsworker may take to be ready
// again once Redis answers: the worker's retry pacing tops out at 5 s, the
// rest is slack for -race on a loaded machine.
const queueRecoveryBound = 15 * time.Second

// privateQueueSetup is newQueueSetup's deployment (verifyd + smsworker in
// front of a fake Twilio, same secret, Redis store and queue) on a
// redis-server of the test's own, which it may freeze, kill and restart.
// The shared test Redis is not touched.
func privateQueueSetup(t *testing.T, r *redisServer) *queueSetup {
	t.Helper()
	s := &queueSetup{
		t:        t,
		rc:       dialRedis(t, r.URL()),
		provider: newFakeProvider(t),
		stream:   "e2e_sms_outbox_" + strings.ReplaceAll(uuid.NewString(), "-", ""),
	}
	s.env = map[string]string{
		"VERIFY_STORE":                  "redis",
		"VERIFY_REDIS_URL":              r.URL(),
		"VERIFY_CODE_SECRET":            testSecret,
		"VERIFY_SMS_QUEUE":              "redis",
		"VERIFY_SMS_STREAM":             s.stream,
		"VERIFY_SMS_VISIBILITY_TIMEOUT": "10s",
		"VERIFY_SMS_RETRY_BACKOFF":      "20ms",
		"VERIFY_SMS_RETRY_MAX_BACKOFF":  "100ms",
		"VERIFY_SHUTDOWN_TIMEOUT":       "5s",
	}
	for k, v := range s.provider.Env() {
		s.env[k] = v
	}
	// Runs after the processes are killed and before the client is closed:
	// a Redis left frozen by a failed test is killed (SIGKILL ends a stopped
	// process too), so nothing waits on it.
	t.Cleanup(r.kill)
	return s
}

// waitFrozen waits until the kernel reports the redis-server stopped
// (state T), so that the checks that follow really run against a hung Redis.
func waitFrozen(t testing.TB, r *redisServer) {
	t.Helper()
	r.mu.Lock()
	pid := r.cmd.Process.Pid
	r.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatalf("read state of redis-server %d: %v", pid, err)
		}
		// pid (comm) state ...: the state follows the last ')'.
		if f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:])); len(f) > 0 && f[0] == "T" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server %d not stopped 5s after SIGSTOP: %s", pid, stat)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// solvedCaptcha issues a captcha at verifyd and reads its answer from Redis,
// as a user who has solved it.
func solvedCaptcha(t testing.TB, s *queueSetup, v *process) url.Values {
	t.Helper()
	id := uuid.NewString()
	res, err := http.Get(v.base + "/image_codes/" + id + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /image_codes/: %d", res.StatusCode)
	}
	return url.Values{"uuid": {id}, "image_code": {captchaAnswer(t, s.rc, id)}}
}

// outageCheck is one request made during an outage and the answer it must
// get within outageBound.
type outageCheck struct {
	what        string
	method, url string
	form        url.Values
	status      int
	code        string
	answer      answer
	took        time.Duration
	err         error
}

// runOutageChecks sends the checks at once (an outage must not make one
// wait for another) and fails for each that is not answered as wanted
// within outageBound.
func runOutageChecks(t *testing.T, checks []*outageCheck) {
	t.Helper()
	client := &http.Client{Timeout: 2 * outageBound}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	for _, c := range checks {
		wg.Go(func() {
			began := time.Now()
			c.answer, c.err = tryCall(client, c.method, c.url, c.form)
			c.took = time.Since(began)
		})
	}
	wg.Wait()
	for _, c := range checks {
		switch {
		case c.err != nil:
			t.Errorf("during the outage, %s: %v (after %v)", c.what, c.err, c.took)
		case c.answer.Status != c.status || c.answer.Code != c.code:
			t.Errorf("during the outage, %s: %d %q %q after %v, want %d %q",
				c.what, c.answer.Status, c.answer.Code, c.answer.ErrMsg, c.took, c.status, c.code)
		case c.took > outageBound:
			t.Errorf("during the outage, %s took %v, want at most %v", c.what, c.took, outageBound)
		default:
			t.Logf("during the outage, %s: %d %s in %v", c.what, c.answer.Status, c.answer.Code, c.took.Round(time.Millisecond))
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// queueOutageChecks are what a user and an operator see of an outage: SMS
// requests refused with 503 5000, both processes unready but alive.
func queueOutageChecks(v, w *process, smsRequests map[string]url.Values) []*outageCheck {
	checks := []*outageCheck{
		{what: "verifyd GET /readyz", method: "GET", url: v.base + "/readyz", status: 503, code: "5000"},
		{what: "smsworker GET /readyz", method: "GET", url: w.base + "/readyz", status: 503, code: "5000"},
		{what: "verifyd GET /healthz", method: "GET", url: v.base + "/healthz", status: 200, code: "0"},
		{what: "smsworker GET /healthz", method: "GET", url: w.base + "/healthz", status: 200, code: "0"},
		{what: "GET /image_codes/", method: "GET", url: v.base + "/image_codes/" + uuid.NewString() + "/", status: 503, code: "5000"},
	}
	for mobile, form := range smsRequests {
		checks = append(checks, &outageCheck{
			what: "POST /sms_codes/" + mobile + "/", method: "POST", url: v.base + "/sms_codes/" + mobile + "/", form: form,
			status: 503, code: "5000",
		})
	}
	return checks
}

// verifyCode checks that the code delivered to to verifies at verifyd.
func verifyCode(t testing.TB, s *queueSetup, v *process, mobile, to string) string {
	t.Helper()
	reqs := s.provider.Requests(to)
	if len(reqs) == 0 {
		t.Fatalf("no message to %s", to)
	}
	code := codeIn(t, reqs[len(reqs)-1].Body)
	call(t, "POST", v.base+"/sms_codes/"+mobile+"/verify/", url.Values{"sms_code": {code}}).want(t, 200, "0")
	return code
}

// wantSentOnce checks that the provider got exactly one request to to, and
// accepted it.
func wantSentOnce(t testing.TB, s *queueSetup, to string) {
	t.Helper()
	if reqs := s.provider.Requests(to); len(reqs) != 1 || reqs[0].Status != http.StatusCreated {
		t.Errorf("provider got %+v for %s, want exactly one accepted request", reqs, to)
	}
}

// TestOutageQueue_FrozenRedisIsRiddenOutAndQueuedCodesAreDeliveredOnce
// freezes (SIGSTOP) the Redis under verifyd and one smsworker, with one
// message in flight at the provider and one waiting in the stream, unread.
// During the freeze SMS requests are refused with 503 5000 within the
// bound, both processes say they are not ready and keep running; the send in
// flight completes meanwhile. After SIGCONT both recover by themselves and
// every message queued before the freeze is sent exactly once, as is a
// request made after it.
func TestOutageQueue_FrozenRedisIsRiddenOutAndQueuedCodesAreDeliveredOnce(t *testing.T) {
	r := startRedis(t)
	s := privateQueueSetup(t, r)
	// One send at a time: while A is held at the provider, B stays in the
	// stream unread, so which message is where is certain.
	s.env["VERIFY_SMS_WORKERS"] = "1"
	v, w := s.verifyd(), s.worker()

	mobileA, mobileB, mobileC := randomMobile(t), randomMobile(t), randomMobile(t)
	held := s.provider.Hold("+86" + mobileA)
	toA := s.requestSMS(t, v, mobileA)
	select {
	case <-held.arrived:
	case <-time.After(15 * time.Second):
		t.Fatalf("the worker did not send A within 15s\n%s", w.output())
	}
	toB := s.requestSMS(t, v, mobileB)
	if n := s.streamLen(); n != 2 {
		t.Fatalf("stream holds %d entries before the freeze, want 2 (A taken, B waiting)", n)
	}
	pending, err := respDo(r.Addr(), "XPENDING", s.stream, queueGroup)
	if err != nil {
		t.Fatal(err)
	}
	if n, _, _ := strings.Cut(pending, "\n"); n != "1" {
		t.Fatalf("%s entries pending before the freeze, want 1 (A only): B must still be unread", n)
	}
	// A user who has solved a captcha asks for a code during the freeze.
	captchaC := solvedCaptcha(t, s, v)
	captchaUnknown := url.Values{"uuid": {uuid.NewString()}, "image_code": {"abcd"}}

	r.signal(syscall.SIGSTOP)
	frozeAt := time.Now()
	waitFrozen(t, r)
	// The provider accepts A while Redis is frozen: the worker can record
	// the success only once Redis answers again.
	held.Release(replyCreated)
	runOutageChecks(t, queueOutageChecks(v, w, map[string]url.Values{
		mobileC:         captchaC,
		randomMobile(t): captchaUnknown,
	}))
	wantAliveWithoutPanic(t, v)
	wantAliveWithoutPanic(t, w)
	if reqs := s.provider.Requests(toB); len(reqs) != 0 {
		t.Fatalf("B was sent while Redis was frozen: %+v", reqs)
	}

	r.signal(syscall.SIGCONT)
	thawedAt := time.Now()
	t.Logf("Redis frozen for %v", thawedAt.Sub(frozeAt).Round(time.Millisecond))
	waitReadyWithin(t, v, queueRecoveryBound)
	waitReadyWithin(t, w, queueRecoveryBound)
	t.Logf("verifyd and smsworker ready %v after SIGCONT", time.Since(thawedAt).Round(time.Millisecond))

	s.provider.WaitFor("A and B are delivered", func() bool {
		return s.provider.Created(toA) == 1 && s.provider.Created(toB) == 1
	})
	t.Logf("A and B delivered %v after SIGCONT", time.Since(thawedAt).Round(time.Millisecond))
	// The user refused during the freeze asks again: no resend interval was
	// left behind by the refused request, and the code arrives.
	askedAt := time.Now()
	toC := s.requestSMS(t, v, mobileC)
	s.provider.WaitFor("C is delivered", func() bool { return s.provider.Created(toC) == 1 })
	t.Logf("C, asked after the thaw, delivered in %v", time.Since(askedAt).Round(time.Millisecond))
	s.wantDrained()

	// Exactly once each, all accepted, nothing dead-lettered, nothing else
	// sent (the requests refused during the freeze sent nothing).
	for _, to := range []string{toA, toB, toC} {
		wantSentOnce(t, s, to)
	}
	if all := s.provider.Requests(""); len(all) != 3 {
		t.Errorf("provider got %d requests, want 3: %+v", len(all), all)
	}
	if dead := s.deadLetters(); len(dead) != 0 {
		t.Errorf("dead letters: %+v", dead)
	}
	var codes []string
	for _, m := range [][2]string{{mobileA, toA}, {mobileB, toB}, {mobileC, toC}} {
		codes = append(codes, verifyCode(t, s, v, m[0], m[1]))
	}
	// The worker logs a delivery just after acknowledging it.
	deliveries := func() int { return strings.Count(w.output(), `"outcome":"delivered"`) }
	for deadline := time.Now().Add(10 * time.Second); deliveries() < 3 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if n := deliveries(); n != 3 {
		t.Errorf("worker logged %d deliveries, want 3:\n%s", n, w.output())
	}
	wantNoSecrets(t, []*process{v, w}, codes, []string{toA, toB, toC})
	wantAliveWithoutPanic(t, v)
	wantAliveWithoutPanic(t, w)
}

// TestOutageQueue_RestartedEmptyRedisWorkerRecreatesItsGroup kills the Redis
// under verifyd and one smsworker and starts it again empty (no
// persistence): the stream and its consumer group are gone. Without a
// restart of either process, both become ready again, a new SMS request is
// accepted and the worker, recreating its group, delivers it.
func TestOutageQueue_RestartedEmptyRedisWorkerRecreatesItsGroup(t *testing.T) {
	r := startRedis(t)
	s := privateQueueSetup(t, r)
	v, w := s.verifyd(), s.worker()

	mobileA := randomMobile(t)
	toA := s.requestSMS(t, v, mobileA)
	s.provider.WaitFor("A is delivered", func() bool { return s.provider.Created(toA) == 1 })
	s.wantDrained()
	// A's code is live: proof below that the restarted Redis is empty.
	if n, err := respDo(r.Addr(), "EXISTS", "sms_{"+toA+"}"); err != nil || n != "1" {
		t.Fatalf("EXISTS sms_{%s} before the kill: %q %v, want A's live code", toA, n, err)
	}

	r.kill()
	runOutageChecks(t, queueOutageChecks(v, w, map[string]url.Values{
		randomMobile(t): {"uuid": {uuid.NewString()}, "image_code": {"abcd"}},
	}))
	// What an operator sees in the worker's log.
	w.waitLog(regexp.MustCompile(`"msg":"sms worker: redis unavailable, retrying"`))
	wantAliveWithoutPanic(t, v)
	wantAliveWithoutPanic(t, w)

	r.restart()
	restartedAt := time.Now()
	// The Redis came back empty. (Not checked on the stream: the worker may
	// already have recreated it with its group, which is what this test
	// wants. A's code is a key nothing writes again.)
	codeA := "sms_{" + toA + "}"
	if n, err := respDo(r.Addr(), "EXISTS", codeA); err != nil || n != "0" {
		t.Fatalf("EXISTS %s after the restart: %q %v, want an empty Redis", codeA, n, err)
	}
	waitReadyWithin(t, v, queueRecoveryBound)
	waitReadyWithin(t, w, queueRecoveryBound)
	t.Logf("verifyd and smsworker ready %v after the restart", time.Since(restartedAt).Round(time.Millisecond))

	mobileB := randomMobile(t)
	askedAt := time.Now()
	toB := s.requestSMS(t, v, mobileB)
	s.provider.WaitFor("B is delivered", func() bool { return s.provider.Created(toB) == 1 })
	t.Logf("B, asked after the restart, delivered in %v", time.Since(askedAt).Round(time.Millisecond))
	s.wantDrained()

	groups, err := respDo(r.Addr(), "XINFO", "GROUPS", s.stream)
	if err != nil {
		t.Fatalf("XINFO GROUPS %s: %v", s.stream, err)
	}
	if !strings.Contains("\n"+groups+"\n", "\n"+queueGroup+"\n") {
		t.Errorf("consumer group %q not recreated; XINFO GROUPS:\n%s", queueGroup, groups)
	}
	wantSentOnce(t, s, toA)
	wantSentOnce(t, s, toB)
	if all := s.provider.Requests(""); len(all) != 2 {
		t.Errorf("provider got %d requests, want 2: %+v", len(all), all)
	}
	codeB := verifyCode(t, s, v, mobileB, toB)
	wantNoSecrets(t, []*process{v, w}, []string{codeB}, []string{toA, toB})
	wantAliveWithoutPanic(t, v)
	wantAliveWithoutPanic(t, w)
}
