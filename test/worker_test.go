package test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/rueidis"
)

// queueSetup is a verifyd + smsworker deployment on a stream of its own, in
// front of a fake Twilio.
type queueSetup struct {
	t        *testing.T
	rc       rueidis.Client
	provider *fakeProvider
	env      map[string]string // shared by verifyd and smsworker
	stream   string
}

func newQueueSetup(t *testing.T) *queueSetup {
	t.Helper()
	redisURL, rc := testRedis(t)
	s := &queueSetup{
		t:        t,
		rc:       rc,
		provider: newFakeProvider(t),
		stream:   "e2e_sms_outbox_" + strings.ReplaceAll(uuid.NewString(), "-", ""),
	}
	s.env = map[string]string{
		"VERIFY_STORE":                  "redis",
		"VERIFY_REDIS_URL":              redisURL,
		"VERIFY_CODE_SECRET":            testSecret,
		"VERIFY_SMS_QUEUE":              "redis",
		"VERIFY_SMS_STREAM":             s.stream,
		"VERIFY_SMS_VISIBILITY_TIMEOUT": "10s", // no take-over of a live worker on a slow machine
		"VERIFY_SMS_RETRY_BACKOFF":      "20ms",
		"VERIFY_SMS_RETRY_MAX_BACKOFF":  "100ms",
		"VERIFY_SHUTDOWN_TIMEOUT":       "5s",
	}
	for k, v := range s.provider.Env() {
		s.env[k] = v
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rc.Do(ctx, rc.B().Del().Key(s.stream, s.stream+"_dead").Build())
	})
	return s
}

// verifyd starts a verifyd enqueueing to the stream and waits until it is
// ready.
func (s *queueSetup) verifyd() *process {
	s.t.Helper()
	env := map[string]string{"VERIFY_ADDR": freeAddr(s.t)}
	for k, v := range s.env {
		env[k] = v
	}
	p := start(s.t, "verifyd", env)
	p.waitReady()
	return p
}

// worker starts an smsworker and waits until it reads the stream; its base
// URL is where it serves /metrics and the probes.
func (s *queueSetup) worker() *process {
	s.t.Helper()
	env := map[string]string{"VERIFY_WORKER_ADDR": freeAddr(s.t)}
	for k, v := range s.env {
		env[k] = v
	}
	p := start(s.t, "smsworker", env)
	p.base = "http://" + env["VERIFY_WORKER_ADDR"]
	p.waitLog(regexp.MustCompile(`"msg":"sms worker started"`))
	return p
}

// metric returns the value of one series in a process's /metrics.
func metric(t testing.TB, p *process, series string) string {
	t.Helper()
	res, err := http.Get(p.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("%s/metrics has no %s", p.base, series)
	}
	return string(m[1])
}

// requestSMS solves a captcha and asks verifyd for a code to mobile (a
// national CN number); it returns the number in E.164.
func (s *queueSetup) requestSMS(t testing.TB, v *process, mobile string) string {
	t.Helper()
	id := getImage(t, v.base, uuid.NewString())
	call(t, "POST", v.base+"/sms_codes/"+mobile+"/", url.Values{"uuid": {id}, "image_code": {captchaAnswer(t, s.rc, id)}}).
		want(t, 200, "0")
	return "+86" + mobile
}

func (s *queueSetup) streamLen() int64 {
	s.t.Helper()
	n, err := s.rc.Do(s.t.Context(), s.rc.B().Xlen().Key(s.stream).Build()).AsInt64()
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

func (s *queueSetup) deadLetters() []rueidis.XRangeEntry {
	s.t.Helper()
	entries, err := s.rc.Do(s.t.Context(), s.rc.B().Xrange().Key(s.stream+"_dead").Start("-").End("+").Build()).AsXRange()
	if err != nil {
		s.t.Fatal(err)
	}
	return entries
}

// wantDrained waits until every message left the stream: delivered or
// dead-lettered, acknowledged and deleted.
func (s *queueSetup) wantDrained() {
	s.t.Helper()
	s.provider.WaitFor("the stream is empty", func() bool { return s.streamLen() == 0 })
}

// wantNoSecrets fails if a log line of the processes holds a code or a full
// number. (With Twilio configured, no log line may hold either.)
func wantNoSecrets(t *testing.T, procs []*process, codes []string, numbers []string) {
	t.Helper()
	for _, p := range procs {
		out := p.output()
		for _, c := range codes {
			if regexp.MustCompile(`\b` + c + `\b`).MatchString(out) {
				t.Errorf("code %s in the logs:\n%s", c, out)
			}
		}
		for _, n := range numbers {
			if strings.Contains(out, n[1:]) {
				t.Errorf("full number %s in the logs", n)
			}
		}
	}
}

// The seed retried a failed send three times: the provider failing twice
// (HTTP 503) costs two retries and the user gets one code, which verifies.
func TestWorker_ProviderFailsTwiceThenTheCodeArrivesOnce(t *testing.T) {
	s := newQueueSetup(t)
	v, w := s.verifyd(), s.worker()
	mobile := randomMobile(t)
	s.provider.Script("+86"+mobile, replyUnavailable, replyUnavailable)

	to := s.requestSMS(t, v, mobile)
	s.provider.WaitFor("the message is accepted", func() bool { return s.provider.Created(to) == 1 })
	s.wantDrained()
	reqs := s.provider.Requests(to)
	if len(reqs) != 3 || s.provider.Created(to) != 1 {
		t.Fatalf("provider got %+v; want 2 failures and 1 success", reqs)
	}
	code := codeIn(t, reqs[2].Body)
	call(t, "POST", v.base+"/sms_codes/"+mobile+"/verify/", url.Values{"sms_code": {code}}).want(t, 200, "0")

	w.waitLog(regexp.MustCompile(`"attempt":3,"outcome":"delivered"`)) // written after the acknowledgement
	out := w.output()
	masked := `"to":"**********` + to[len(to)-4:] + `"`
	for _, want := range []string{`"attempt":1,"outcome":"retrying"`, `"attempt":2,"outcome":"retrying"`, masked} {
		if !strings.Contains(out, want) {
			t.Errorf("worker logs lack %s:\n%s", want, out)
		}
	}
	if len(s.deadLetters()) != 0 {
		t.Error("a delivered message was dead-lettered")
	}
	wantNoSecrets(t, []*process{v, w}, []string{code}, []string{to})

	// The worker counts what it did; verifyd shows the queue's depth.
	if got := metric(t, w, "verifyd_sms_sent_total"); got != "1" {
		t.Errorf("worker sms_sent_total = %s, want 1", got)
	}
	if got := metric(t, w, "verifyd_sms_retries_total"); got != "2" {
		t.Errorf("worker sms_retries_total = %s, want 2", got)
	}
	if got := metric(t, v, "verifyd_sms_queue_length"); got != "0" {
		t.Errorf("verifyd sms_queue_length = %s, want 0 once drained", got)
	}
	call(t, "GET", w.base+"/readyz", nil).want(t, 200, "0")
}

// A permanent refusal (invalid number) is not retried: the message goes to
// the dead-letter stream with the reason, without its text.
func TestWorker_PermanentErrorGoesToTheDeadLetterStreamUnretried(t *testing.T) {
	s := newQueueSetup(t)
	v, w := s.verifyd(), s.worker()
	mobile := randomMobile(t)
	s.provider.Script("+86"+mobile, replyInvalidTo)

	to := s.requestSMS(t, v, mobile)
	var dead []rueidis.XRangeEntry
	s.provider.WaitFor("the message is dead-lettered", func() bool { dead = s.deadLetters(); return len(dead) == 1 })
	s.wantDrained()
	reqs := s.provider.Requests(to)
	if len(reqs) != 1 {
		t.Fatalf("provider got %d requests, want 1: permanent errors are not retried", len(reqs))
	}
	code := codeIn(t, reqs[0].Body)
	f := dead[0].FieldValues
	if f["to"] != "**********"+to[len(to)-4:] || f["attempts"] != "1" || !strings.Contains(f["reason"], "21211") {
		t.Errorf("dead letter %v", f)
	}
	for k, val := range f {
		if strings.Contains(val, code) || strings.Contains(val, mobile) || strings.Contains(val, "verification code") {
			t.Errorf("dead letter field %s = %q holds the text or the number", k, val)
		}
	}
	w.waitLog(regexp.MustCompile(`"attempt":1,"outcome":"failed"`))
	wantNoSecrets(t, []*process{v, w}, []string{code}, []string{to})
}

// A worker killed while the provider holds its request loses the message
// to another worker, which delivers it after the visibility timeout.
func TestWorker_KilledMidSendAnotherWorkerDelivers(t *testing.T) {
	s := newQueueSetup(t)
	s.env["VERIFY_SMS_VISIBILITY_TIMEOUT"] = "1s"
	v, first := s.verifyd(), s.worker()
	mobile := randomMobile(t)
	held := s.provider.Hold("+86" + mobile)

	to := s.requestSMS(t, v, mobile)
	<-held.arrived
	second := s.worker()
	if err := first.stop(syscall.SIGKILL); err == nil {
		t.Fatal("SIGKILLed worker exited cleanly")
	}
	s.provider.WaitFor("another worker delivers", func() bool { return s.provider.Created(to) == 1 })
	s.wantDrained()
	reqs := s.provider.Requests(to)
	if len(reqs) != 2 || reqs[0].Status != 0 || reqs[1].Status != http.StatusCreated {
		t.Fatalf("provider got %+v; want the killed worker's request unanswered, then one success", reqs)
	}
	second.waitLog(regexp.MustCompile(`"attempt":2,"outcome":"delivered"`))
	if !strings.Contains(second.output(), `"outcome":"reclaimed"`) {
		t.Errorf("second worker did not take the message over:\n%s", second.output())
	}
	code := codeIn(t, reqs[1].Body)
	call(t, "POST", v.base+"/sms_codes/"+mobile+"/verify/", url.Values{"sms_code": {code}}).want(t, 200, "0")
	wantNoSecrets(t, []*process{v, first, second}, []string{code}, []string{to})
}

// Messages wait in Redis while no worker runs, and go out when one starts.
func TestWorker_CodeRequestedWhileNoWorkerRunsIsDeliveredWhenOneStarts(t *testing.T) {
	s := newQueueSetup(t)
	v := s.verifyd()
	mobile := randomMobile(t)
	to := s.requestSMS(t, v, mobile)
	if n := s.streamLen(); n != 1 {
		t.Fatalf("stream holds %d messages, want the one queued", n)
	}
	// verifyd restarting does not lose it either.
	if err := v.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("verifyd exit after SIGTERM: %v", err)
	}

	w := s.worker()
	s.provider.WaitFor("the message is delivered", func() bool { return s.provider.Created(to) == 1 })
	s.wantDrained()
	code := codeIn(t, s.provider.Requests(to)[0].Body)
	v = s.verifyd()
	call(t, "POST", v.base+"/sms_codes/"+mobile+"/verify/", url.Values{"sms_code": {code}}).want(t, 200, "0")
	wantNoSecrets(t, []*process{v, w}, []string{code}, []string{to})
}

// Two workers share a few hundred messages without sending any twice.
func TestWorker_TwoWorkersNeverSendAMessageTwice(t *testing.T) {
	s := newQueueSetup(t)
	v := s.verifyd()
	a, b := s.worker(), s.worker()

	const total = 200
	numbers := make([]string, total)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				numbers[i] = s.requestSMS(t, v, randomMobile(t))
			}
		})
	}
	for i := range total {
		next <- i
	}
	close(next)
	wg.Wait()

	s.provider.WaitFor(fmt.Sprintf("%d messages are delivered", total), func() bool {
		return len(s.provider.Requests("")) >= total
	})
	s.wantDrained()
	for _, to := range numbers {
		if reqs := s.provider.Requests(to); len(reqs) != 1 || reqs[0].Status != http.StatusCreated {
			t.Errorf("%s: provider got %+v, want one success", to, reqs)
		}
	}
	if n := len(s.provider.Requests("")); n != total {
		t.Errorf("provider got %d requests for %d messages", n, total)
	}
	// Stopped, the workers have written every line.
	for _, w := range []*process{a, b} {
		if err := w.stop(syscall.SIGTERM); err != nil {
			t.Errorf("smsworker exit after SIGTERM: %v", err)
		}
	}
	outA := strings.Count(a.output(), `"outcome":"delivered"`)
	outB := strings.Count(b.output(), `"outcome":"delivered"`)
	t.Logf("worker A delivered %d, worker B %d", outA, outB)
	if outA+outB != total {
		t.Errorf("workers logged %d deliveries, want %d", outA+outB, total)
	}
}

// SIGTERM lets the send in flight finish, acknowledges it and exits 0.
func TestWorker_SIGTERMFinishesTheSendInFlight(t *testing.T) {
	s := newQueueSetup(t)
	v, w := s.verifyd(), s.worker()
	mobile := randomMobile(t)
	held := s.provider.Hold("+86" + mobile)
	to := s.requestSMS(t, v, mobile)
	<-held.arrived

	// Released only once the worker has stopped taking work, so the send
	// really is in flight during the shutdown.
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := w.waitLog(regexp.MustCompile(`"msg":"sms worker draining".*"in_flight":(\d+)`)); got != "1" {
		t.Errorf("worker draining with %s sends in flight, want 1", got)
	}
	held.Release(replyCreated)
	if err := w.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("smsworker exit after SIGTERM: %v\n%s", err, w.output())
	}
	if s.provider.Created(to) != 1 || len(s.provider.Requests(to)) != 1 {
		t.Fatalf("provider got %+v, want one success", s.provider.Requests(to))
	}
	if n := s.streamLen(); n != 0 {
		t.Errorf("stream holds %d messages after a clean shutdown", n)
	}
	out := w.output()
	if !strings.Contains(out, `"outcome":"delivered"`) || !strings.Contains(out, `"msg":"sms worker stopped"`) {
		t.Errorf("worker logs:\n%s", out)
	}
}

// smsworker refuses to run without the Redis queue, before dialling
// anything, with a one-line error.
func TestWorker_RefusesToStartWithoutTheRedisQueue(t *testing.T) {
	p := start(t, "smsworker", map[string]string{"VERIFY_REDIS_URL": "redis://127.0.0.1:1/0"})
	if err := p.wait(); err == nil {
		t.Fatal("smsworker started with VERIFY_SMS_QUEUE=memory")
	}
	out := strings.TrimSpace(p.output())
	if strings.Count(out, "\n") != 0 || !strings.Contains(out, `VERIFY_SMS_QUEUE="memory"`) || !strings.Contains(out, "VERIFY_SMS_QUEUE=redis") {
		t.Errorf("output %q, want one line naming VERIFY_SMS_QUEUE", out)
	}
}
