package test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// outageBound is the longest a request may take to be refused while Redis
// is gone or hung. verifyd's own bound is its 3 s request timeout; the rest
// is slack for -race and a loaded machine.
const outageBound = 5 * time.Second

// startOnOwnRedis runs verifyd on a redis-server of its own, which the test
// may kill, hang and restart.
func startOnOwnRedis(t *testing.T) (*redisServer, *process) {
	t.Helper()
	r := startRedis(t)
	p := start(t, "verifyd", map[string]string{
		"VERIFY_ADDR":         freeAddr(t),
		"VERIFY_STORE":        "redis",
		"VERIFY_REDIS_URL":    r.URL(),
		"VERIFY_CODE_SECRET":  testSecret,
		"VERIFY_SMS_PROVIDER": "log",
	})
	p.waitReady()
	return r, p
}

// TestOutage_RedisLossAnswers503AndRecoversWithoutRestart kills verifyd's
// Redis: the process stays alive and healthy, says it is not ready, refuses
// every API request quickly with 503 5000 without piling up goroutines, and
// works again by itself once Redis is back on the same address.
func TestOutage_RedisLossAnswers503AndRecoversWithoutRestart(t *testing.T) {
	r, p := startOnOwnRedis(t)
	rc := dialRedis(t, r.URL())
	walkFlow(t, p, rc)

	r.kill()
	wantOutageAnswers(t, p)
	wantNoGoroutinePileUp(t, p)
	wantAliveWithoutPanic(t, p)

	r.restart()
	waitReadyWithin(t, p, 10*time.Second)
	walkFlow(t, p, rc)
	wantAliveWithoutPanic(t, p)
}

// TestOutage_FirstRequestsAfterARedisRestartSucceed restarts verifyd's
// Redis while no request comes in, so verifyd's pooled connections are found
// dropped only when next used. Once /readyz says 200, every request must
// succeed, the very first ones included: none may answer 503.
func TestOutage_FirstRequestsAfterARedisRestartSucceed(t *testing.T) {
	r, p := startOnOwnRedis(t)
	rc := dialRedis(t, r.URL())
	// Enough requests that every pooled connection to Redis is open.
	for range 30 {
		getImage(t, p.base, uuid.NewString())
	}
	walkFlow(t, p, rc)

	r.restart()
	waitReadyWithin(t, p, 10*time.Second)
	for i := range 20 {
		id := uuid.NewString()
		res, err := http.Get(p.base + "/image_codes/" + id + "/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("request %d after /readyz turned 200: GET /image_codes/: %d, want 200\n%s", i+1, res.StatusCode, p.output())
		}
	}
	walkFlow(t, p, rc)
	wantAliveWithoutPanic(t, p)
}

// TestOutage_HungRedisAnswers503WithinTheRequestTimeout stops verifyd's
// Redis with SIGSTOP: connections are accepted but nothing is answered, the
// worst kind of outage. Requests must still end in 503 5000 within the
// request timeout, and the service recovers by itself on SIGCONT.
func TestOutage_HungRedisAnswers503WithinTheRequestTimeout(t *testing.T) {
	r, p := startOnOwnRedis(t)
	rc := dialRedis(t, r.URL())
	walkFlow(t, p, rc)

	r.signal(syscall.SIGSTOP)
	wantOutageAnswers(t, p)
	wantNoGoroutinePileUp(t, p)
	wantAliveWithoutPanic(t, p)

	r.signal(syscall.SIGCONT)
	waitReadyWithin(t, p, 10*time.Second)
	walkFlow(t, p, rc)
	wantAliveWithoutPanic(t, p)
}

// outageRequests are one request of every kind, as (method, path, form).
func outageRequests(t testing.TB) []struct {
	method, path string
	form         url.Values
} {
	mobile := randomMobile(t)
	return []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/readyz", nil},
		{"GET", "/image_codes/" + uuid.NewString() + "/", nil},
		{"POST", "/sms_codes/" + mobile + "/", url.Values{"uuid": {uuid.NewString()}, "image_code": {"abcd"}}},
		{"POST", "/sms_codes/" + mobile + "/verify/", url.Values{"sms_code": {"123456"}}},
	}
}

// wantOutageAnswers checks, one request at a time, that readiness and the
// API answer 503 5000 within outageBound while liveness stays 200.
func wantOutageAnswers(t *testing.T, p *process) {
	t.Helper()
	client := &http.Client{Timeout: 2 * outageBound}
	defer client.CloseIdleConnections()
	for _, r := range outageRequests(t) {
		began := time.Now()
		a, err := tryCall(client, r.method, p.base+r.path, r.form)
		took := time.Since(began)
		if err != nil {
			t.Fatalf("during the outage: %v (after %v)", err, took)
		}
		if a.Status != 503 || a.Code != "5000" {
			t.Errorf("during the outage %s %s: %d %q %q, want 503 5000", r.method, r.path, a.Status, a.Code, a.ErrMsg)
		}
		if took > outageBound {
			t.Errorf("during the outage %s %s took %v, want at most %v", r.method, r.path, took, outageBound)
		}
	}
	call(t, "GET", p.base+"/healthz", nil).want(t, 200, "0")
}

// wantNoGoroutinePileUp sends rounds of concurrent requests during the
// outage. Each must be refused within outageBound, and the process's
// goroutine count (go_goroutines at /metrics) must not grow from one round
// to the next: a request that left something waiting on Redis behind would
// add up round after round.
func wantNoGoroutinePileUp(t *testing.T, p *process) {
	t.Helper()
	const (
		concurrency = 100
		rounds      = 4
		slack       = 25 // runtime, rueidis and timer goroutines that come and go
	)
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: concurrency},
		Timeout:   2 * outageBound,
	}
	defer client.CloseIdleConnections()
	before := goroutines(t, p)
	counts := make([]int, rounds)
	for round := range rounds {
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			failed []string
			slow   time.Duration
		)
		reqs := outageRequests(t)
		began := time.Now()
		for i := range concurrency {
			r := reqs[i%len(reqs)]
			wg.Go(func() {
				start := time.Now()
				a, err := tryCall(client, r.method, p.base+r.path, r.form)
				took := time.Since(start)
				mu.Lock()
				defer mu.Unlock()
				slow = max(slow, took)
				switch {
				case err != nil:
					failed = append(failed, err.Error())
				case a.Status != 503 || a.Code != "5000":
					failed = append(failed, fmt.Sprintf("%s %s: %d %s", r.method, r.path, a.Status, a.Code))
				case took > outageBound:
					failed = append(failed, fmt.Sprintf("%s %s took %v", r.method, r.path, took))
				}
			})
		}
		wg.Wait()
		counts[round] = goroutines(t, p)
		t.Logf("round %d: %d concurrent requests refused in %v (slowest %v); go_goroutines %d",
			round+1, concurrency, time.Since(began).Round(time.Millisecond), slow.Round(time.Millisecond), counts[round])
		if len(failed) > 0 {
			t.Fatalf("round %d: %d of %d requests not refused with 503 5000 within %v, first: %s",
				round+1, len(failed), concurrency, outageBound, failed[0])
		}
	}
	t.Logf("go_goroutines: %d before the rounds, then %v", before, counts)
	// One goroutine per open client connection is expected; more than that,
	// or growth after the first round, is a pile-up.
	for round, n := range counts {
		if n > before+concurrency+slack {
			t.Errorf("round %d: %d goroutines, want at most %d before + %d connections + %d",
				round+1, n, before, concurrency, slack)
		}
		if round > 0 && n > counts[0]+slack {
			t.Errorf("round %d: %d goroutines after %d in round 1: they pile up", round+1, n, counts[0])
		}
	}
}

// goroutines reads go_goroutines from the process's /metrics.
func goroutines(t testing.TB, p *process) int {
	t.Helper()
	res, err := http.Get(p.base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d, want 200 with the Prometheus Go collector's go_goroutines", res.StatusCode)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("go_goroutines %q: %v", v, err)
			}
			return int(n)
		}
	}
	t.Fatalf("GET /metrics has no go_goroutines sample (%v)", sc.Err())
	return 0
}

// wantAliveWithoutPanic checks that p still runs and never logged a panic.
func wantAliveWithoutPanic(t testing.TB, p *process) {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("verifyd exited: %v", p.err)
	default:
	}
	if out := strings.ToLower(p.output()); strings.Contains(out, "panic") {
		t.Fatal("verifyd's output mentions a panic")
	}
}

// waitReadyWithin polls /readyz until it answers 200 within limit.
func waitReadyWithin(t testing.TB, p *process, limit time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: outageBound}
	defer client.CloseIdleConnections()
	began := time.Now()
	var last string
	for time.Since(began) < limit {
		a, err := tryCall(client, "GET", p.base+"/readyz", nil)
		if err == nil && a.Status == 200 && a.Code == "0" {
			t.Logf("ready again %v after Redis came back", time.Since(began).Round(time.Millisecond))
			return
		}
		last = fmt.Sprintf("%+v %v", a, err)
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not ready within %v of Redis coming back; last /readyz: %s", limit, last)
}
