package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/rueidis"
)

// startInstances runs n verifyd processes on one Redis with one code secret,
// as behind a load balancer.
func startInstances(t *testing.T, n int, redisURL string) []*process {
	t.Helper()
	ps := make([]*process, n)
	for i := range ps {
		ps[i] = start(t, "verifyd", map[string]string{
			"VERIFY_ADDR":         freeAddr(t),
			"VERIFY_STORE":        "redis",
			"VERIFY_REDIS_URL":    redisURL,
			"VERIFY_CODE_SECRET":  testSecret,
			"VERIFY_SMS_PROVIDER": "log",
		})
	}
	for _, p := range ps {
		p.waitReady()
	}
	return ps
}

// TestInstances_StateIsSharedBetweenInstances: what one instance issues,
// another spends; the resend interval and codes do not depend on which
// instance a request lands on.
func TestInstances_StateIsSharedBetweenInstances(t *testing.T) {
	redisURL, rc := testRedis(t)
	ps := startInstances(t, 2, redisURL)
	a, b := ps[0], ps[1]

	// A captcha issued by A is spent at B, and is then gone for A as well.
	p1 := randomMobile(t)
	c1 := getImage(t, a.base, uuid.NewString())
	ans1 := captchaAnswer(t, rc, c1)
	call(t, "POST", b.base+"/sms_codes/"+p1+"/", url.Values{"uuid": {c1}, "image_code": {ans1}}).want(t, 200, "0")
	call(t, "POST", a.base+"/sms_codes/"+randomMobile(t)+"/", url.Values{"uuid": {c1}, "image_code": {ans1}}).want(t, 200, "4001")
	code1 := waitCodeAt(t, p1, b)

	// The resend interval started at B holds at A.
	c2 := getImage(t, b.base, uuid.NewString())
	r := call(t, "POST", a.base+"/sms_codes/"+p1+"/", url.Values{"uuid": {c2}, "image_code": {captchaAnswer(t, rc, c2)}})
	r.want(t, 200, "4002")
	if r.RetryAfter == "" {
		t.Error("4002 without Retry-After")
	}

	// The code sent via B verifies at A, once: B refuses it afterwards.
	call(t, "POST", a.base+"/sms_codes/"+p1+"/verify/", url.Values{"sms_code": {wrongCode(code1)}}).want(t, 200, "4008")
	call(t, "POST", a.base+"/sms_codes/"+p1+"/verify/", url.Values{"sms_code": {code1}}).want(t, 200, "0")
	call(t, "POST", b.base+"/sms_codes/"+p1+"/verify/", url.Values{"sms_code": {code1}}).want(t, 200, "4008")

	// And the other way round: requested at A, throttled at B, verified at B.
	p2 := randomMobile(t)
	c3 := getImage(t, b.base, uuid.NewString())
	call(t, "POST", a.base+"/sms_codes/"+p2+"/", url.Values{"uuid": {c3}, "image_code": {captchaAnswer(t, rc, c3)}}).want(t, 200, "0")
	code2 := waitCodeAt(t, p2, a)
	c4 := getImage(t, a.base, uuid.NewString())
	call(t, "POST", b.base+"/sms_codes/"+p2+"/", url.Values{"uuid": {c4}, "image_code": {captchaAnswer(t, rc, c4)}}).want(t, 200, "4002")
	call(t, "POST", b.base+"/sms_codes/"+p2+"/verify/", url.Values{"sms_code": {code2}}).want(t, 200, "0")
}

// TestInstances_ConcurrentRequestsOverTwoInstancesKeepEveryRule fires 300
// requests at once, alternating between two instances on one Redis:
//   - 100 racers present one solved captcha (each for its own phone): exactly
//     one gets an SMS, the others find the captcha spent (4001);
//   - 100 racers present 100 distinct solved captchas for one phone: exactly
//     one gets an SMS, the others hit the resend interval (200 4002);
//   - 100 racers guess wrong codes for a phone with a live code: every guess
//     fails, and the right code then fails too, burned after 5 tries.
func TestInstances_ConcurrentRequestsOverTwoInstancesKeepEveryRule(t *testing.T) {
	redisURL, rc := testRedis(t)
	ps := startInstances(t, 2, redisURL)
	const racers = 100

	// One shared captcha.
	shared := getImage(t, ps[0].base, uuid.NewString())
	sharedAnswer := captchaAnswer(t, rc, shared)
	sharedPhones := make([]string, racers)
	for i := range sharedPhones {
		sharedPhones[i] = randomMobile(t)
	}

	// Distinct captchas for one phone, from both instances.
	onePhone := randomMobile(t)
	ids := make([]string, racers)
	for i := range ids {
		ids[i] = getImage(t, ps[i%2].base, uuid.NewString())
	}
	answers := captchaAnswers(t, rc, ids)

	// A live code to guess at.
	guessed := randomMobile(t)
	c := getImage(t, ps[1].base, uuid.NewString())
	call(t, "POST", ps[1].base+"/sms_codes/"+guessed+"/", url.Values{"uuid": {c}, "image_code": {captchaAnswer(t, rc, c)}}).want(t, 200, "0")
	code := waitCodeAt(t, guessed, ps...)
	wrong := make([]string, racers)
	for i := range wrong {
		w := fmt.Sprintf("%06d", (i*7919+13)%1000000)
		if w == code {
			w = wrongCode(code)
		}
		wrong[i] = w
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 3 * racers}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	var (
		mu      sync.Mutex
		results = map[string]map[string]int{} // kind -> "status code" -> count
		errs    []error
	)
	record := func(kind string, a answer, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			return
		}
		if results[kind] == nil {
			results[kind] = map[string]int{}
		}
		results[kind][fmt.Sprintf("%d %s", a.Status, a.Code)]++
	}
	startGun := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		base := ps[i%2].base
		wg.Go(func() {
			<-startGun
			a, err := tryCall(client, "POST", base+"/sms_codes/"+sharedPhones[i]+"/", url.Values{"uuid": {shared}, "image_code": {sharedAnswer}})
			record("shared captcha", a, err)
		})
		wg.Go(func() {
			<-startGun
			a, err := tryCall(client, "POST", base+"/sms_codes/"+onePhone+"/", url.Values{"uuid": {ids[i]}, "image_code": {answers[i]}})
			record("one phone", a, err)
		})
		wg.Go(func() {
			<-startGun
			a, err := tryCall(client, "POST", base+"/sms_codes/"+guessed+"/verify/", url.Values{"sms_code": {wrong[i]}})
			record("wrong guesses", a, err)
		})
	}
	began := time.Now()
	close(startGun)
	wg.Wait()
	t.Logf("%d requests over 2 instances in %v: %v", 3*racers, time.Since(began).Round(time.Millisecond), results)
	if len(errs) > 0 {
		t.Fatalf("%d requests failed, first: %v", len(errs), errs[0])
	}

	want := map[string]map[string]int{
		"shared captcha": {"200 0": 1, "200 4001": racers - 1},
		"one phone":      {"200 0": 1, "200 4002": racers - 1},
		"wrong guesses":  {"200 4008": racers},
	}
	for kind, w := range want {
		if fmt.Sprint(results[kind]) != fmt.Sprint(w) {
			t.Errorf("%s: got %v, want %v", kind, results[kind], w)
		}
	}

	// The burned code no longer verifies, on either instance.
	for _, p := range ps {
		call(t, "POST", p.base+"/sms_codes/"+guessed+"/verify/", url.Values{"sms_code": {code}}).want(t, 200, "4008")
	}

	// Exactly one SMS went to the raced phone, from one instance or the other.
	re := codeLine(onePhone)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := 0
		for _, p := range ps {
			n += len(re.FindAllString(p.output(), -1))
		}
		if n == 1 {
			break
		}
		if n > 1 || time.Now().After(deadline) {
			t.Fatalf("%d SMS to the raced phone, want 1", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitCodeAt waits for the code sent to mobile in the log of any of ps.
func waitCodeAt(t testing.TB, mobile string, ps ...*process) string {
	t.Helper()
	re := codeLine(mobile)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, p := range ps {
			if m := re.FindStringSubmatch(p.output()); m != nil {
				return m[1]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no SMS to %s in the instances' logs", mobile)
	return ""
}

// captchaAnswers reads many captcha answers from the store in one round
// trip per node.
func captchaAnswers(t testing.TB, client rueidis.Client, ids []string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmds := make(rueidis.Commands, len(ids))
	for i, id := range ids {
		cmds[i] = client.B().Get().Key("img_" + id).Build()
	}
	out := make([]string, len(ids))
	for i, res := range client.DoMulti(ctx, cmds...) {
		v, err := res.ToString()
		if err != nil {
			t.Fatalf("read captcha answer of %s: %v", ids[i], err)
		}
		out[i] = v
	}
	return out
}

// tryCall is call for goroutines: it returns errors instead of failing the
// test, and any non-JSON answer is an error.
func tryCall(client *http.Client, method, u string, form url.Values) (answer, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return answer{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: read answer: %w", method, u, err)
	}
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		return answer{}, fmt.Errorf("%s %s: %d %q is not a JSON answer", method, u, res.StatusCode, raw)
	}
	a.Status = res.StatusCode
	a.RetryAfter = res.Header.Get("Retry-After")
	return a, nil
}
