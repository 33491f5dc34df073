package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/adapters/memory"
	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/redis/redistest"
	"github.com/lemonmall/verifyd/adapters/system"
	"github.com/lemonmall/verifyd/domain"
)

// forEachBackend runs fn with a store and limiter on memory and on Redis.
func forEachBackend(t *testing.T, fn func(t *testing.T, s store, l domain.RateLimiter)) {
	t.Run("memory", func(t *testing.T) {
		fn(t, memory.NewStore(system.Clock{}), memory.NewLimiter(system.Clock{}))
	})
	t.Run("redis", func(t *testing.T) {
		c := redistest.Client(t)
		// A prefix of the test's own keeps runs sharing the test database
		// apart, the service-wide budget key included.
		fn(t, redis.NewStore(c), redis.NewLimiter(c).WithKeyPrefix("test_"+uuid.NewString()+":"))
	})
}

// fromClient sends req as if from addr through a trusted proxy.
func fromClient(req *http.Request, addr string) *http.Request {
	req.Header.Set("X-Forwarded-For", addr)
	return req
}

// trustTestConn trusts the address app.Test connections come from, so tests
// can pick client addresses with X-Forwarded-For.
var trustTestConn = httpapi.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}

// testClient returns a random address in its own /64 of the IPv6
// documentation range, so runs sharing a Redis database do not share limits.
func testClient(t *testing.T) string {
	d, err := system.Random{}.String(12, "0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	return "2001:db8:" + d[0:4] + ":" + d[4:8] + ":" + d[8:12] + "::1"
}

// wantRetryAfter checks a refusal by a limit: 200 4002, or a picture of the
// refusal on the captcha route, with Retry-After in seconds.
func wantRetryAfter(t *testing.T, res response, atMost time.Duration) {
	t.Helper()
	if res.key() != "200 image" {
		want(t, res, http.StatusOK, httpapi.CodeThrottled)
	} else if ct := res.header.Get("Content-Type"); ct != "image/svg+xml" || !strings.Contains(string(res.body), "Too many requests") {
		t.Fatalf("refused captcha: %s %q, want a picture saying so", ct, res.body)
	}
	s, err := strconv.Atoi(res.header.Get("Retry-After"))
	if err != nil || s < 1 || time.Duration(s)*time.Second > atMost+time.Second {
		t.Fatalf("Retry-After %q, want 1..%v seconds", res.header.Get("Retry-After"), atMost)
	}
}

func TestLimits_CaptchasPerClientAddress(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s store, l domain.RateLimiter) {
		r := newRigWith(t, s, rigOptions{limiter: l, cfg: trustTestConn,
			limits: domain.Limits{IPCaptcha: []domain.Quota{{Max: 3, Window: time.Minute}}}})
		client, other := testClient(t), testClient(t)
		got := race(12, func(int) response {
			return r.do(fromClient(httptest.NewRequest("GET", "/image_codes/"+uuid.NewString()+"/", nil), client))
		})
		if got["200 image"] != 3+9 || len(got) != 1 {
			t.Fatalf("burst of 12 from one client: %v, want 12 pictures", got)
		}
		if r.spy.count() != 3 {
			t.Fatalf("burst of 12 from one client: %d captchas, want 3 (and 9 refusals)", r.spy.count())
		}
		wantRetryAfter(t, r.do(fromClient(httptest.NewRequest("GET", "/image_codes/"+uuid.NewString()+"/", nil), client)), time.Minute)
		if res := r.do(fromClient(httptest.NewRequest("GET", "/image_codes/"+uuid.NewString()+"/", nil), other)); res.status != http.StatusOK {
			t.Fatalf("another client got %d", res.status)
		}
	})
}

func TestLimits_SMSRequestsPerClientAddress(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s store, l domain.RateLimiter) {
		r := newRigWith(t, s, rigOptions{limiter: l, cfg: trustTestConn,
			limits: domain.Limits{IPSMS: []domain.Quota{{Max: 2, Window: time.Hour}}}})
		client := testClient(t)
		for i := range 3 {
			id, answer := r.captcha()
			req := httptest.NewRequest("GET", "/sms_codes/"+newMobile()+"/?uuid="+id+"&image_code="+answer, nil)
			res := r.do(fromClient(req, client))
			if i < 2 {
				want(t, res, http.StatusOK, httpapi.CodeOK)
			} else {
				wantRetryAfter(t, res, time.Hour)
			}
		}
	})
}

func TestLimits_VerificationsPerClientAddress(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s store, l domain.RateLimiter) {
		r := newRigWith(t, s, rigOptions{limiter: l, cfg: trustTestConn,
			limits: domain.Limits{IPVerify: []domain.Quota{{Max: 5, Window: 10 * time.Minute}}}})
		client := testClient(t)
		got := race(20, func(int) response {
			req := httptest.NewRequest("POST", "/sms_codes/"+newMobile()+"/verify/", strings.NewReader(`{"sms_code":"123456"}`))
			req.Header.Set("Content-Type", "application/json")
			return r.do(fromClient(req, client))
		})
		if got["200 4008"] != 5 || got["200 4002"] != 15 {
			t.Fatalf("burst of 20 guesses: %v, want 5 checked (4008) and 15 refused", got)
		}
	})
}

func TestLimits_SMSPerPhonePerHour(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s store, l domain.RateLimiter) {
		// A short resend interval, so the hourly quota is what refuses.
		r := newRigWith(t, s, rigOptions{limiter: l, resend: 50 * time.Millisecond,
			limits: domain.Limits{PhoneSMS: []domain.Quota{{Max: 2, Window: time.Hour}}}})
		mobile := newMobile()
		phone, err := domain.NewPhoneNumber("+86"+mobile, "CN", domain.LineMobile)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
			waitResendSlotFree(t, s, phone)
		}
		res := r.requestCode(mobile)
		wantRetryAfter(t, res, time.Hour)
		if ra, _ := strconv.Atoi(res.header.Get("Retry-After")); ra < 3000 {
			t.Errorf("Retry-After %ds, want the hour quota's wait", ra)
		}
		if r.inbox.count() != 2 {
			t.Errorf("%d SMS, want 2", r.inbox.count())
		}
	})
}

// waitResendSlotFree waits until the phone's resend interval is over, asking
// the store, which is what decides.
// waitBudgetFree polls the limiter, counting nothing, until lim has room.
func waitBudgetFree(t *testing.T, l domain.RateLimiter, lim domain.Limit) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := l.Check(t.Context(), lim.Key, lim.Quotas)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("budget still spent after 10 s: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitResendSlotFree(t *testing.T, s store, phone domain.PhoneNumber) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.CheckIssue(t.Context(), phone, nil)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("resend slot still taken after 10 s: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLimits_GlobalSMSBudget(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		testGlobalBudget(t, memory.NewStore(system.Clock{}), memory.NewLimiter(system.Clock{}))
	})
	t.Run("redis", func(t *testing.T) {
		c := redistest.Client(t)
		// The budget is one key for the whole service: a prefix of this
		// run's own keeps runs sharing the test database apart.
		prefix := "test_" + uuid.NewString() + ":"
		testGlobalBudget(t, redis.NewStore(c), redis.NewLimiter(c).WithKeyPrefix(prefix))
	})
}

func testGlobalBudget(t *testing.T, s store, l domain.RateLimiter) {
	{
		r := newRigWith(t, s, rigOptions{limiter: l,
			limits: domain.Limits{GlobalSMS: []domain.Quota{{Max: 3, Window: time.Hour}}}})
		got := map[string]int{}
		for range 5 {
			got[r.requestCode(newMobile()).key()]++
		}
		if got["200 0"] != 3 || got["200 4002"] != 2 || r.inbox.count() != 3 {
			t.Fatalf("5 phones: %v and %d SMS, want 3 sent and 2 refused", got, r.inbox.count())
		}
	}
}

// The seed's page keeps its captcha after an error: a request refused by the
// spent budget must leave that captcha valid for the retry, or the user gets
// "Graphical Code no longer works" once the budget has room again.
func TestLimits_BudgetRefusalKeepsTheCaptchaForTheRetry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s store, l domain.RateLimiter) {
		limits := domain.Limits{GlobalSMS: []domain.Quota{{Max: 1, Window: time.Second}}}
		r := newRigWith(t, s, rigOptions{limiter: l, limits: limits})
		want(t, r.requestCode(newMobile()), http.StatusOK, httpapi.CodeOK)

		mobile := newMobile()
		id, answer := r.captcha()
		ask := func() response {
			return r.get("/sms_codes/" + mobile + "/?" + url.Values{"uuid": {id}, "image_code": {answer}}.Encode())
		}
		wantRetryAfter(t, ask(), time.Second)
		waitBudgetFree(t, l, limits.ForGlobalSMS())
		want(t, ask(), http.StatusOK, httpapi.CodeOK)
		if r.inbox.count() != 2 {
			t.Fatalf("%d SMS sent, want 2", r.inbox.count())
		}
	})
}

func TestLimits_OnlyMobileNumbersOfAllowedRegions(t *testing.T) {
	r := newRigWith(t, memoryStore(t), rigOptions{
		limits: domain.Limits{SMSRegions: []string{"CN"}, MobileOnly: true}})
	for name, mobile := range map[string]string{
		"other region":  "%2B447400123456",
		"beijing fixed": "01012345678",
	} {
		t.Run(name, func(t *testing.T) {
			want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeMobileError)
		})
	}
	want(t, r.requestCode(newMobile()), http.StatusOK, httpapi.CodeOK)
}

func TestClientIP_SpoofedForwardedForIsIgnoredFromUntrustedPeers(t *testing.T) {
	l := memory.NewLimiter(system.Clock{})
	r := newRigWith(t, memoryStore(t), rigOptions{limiter: l,
		limits: domain.Limits{IPCaptcha: []domain.Quota{{Max: 1, Window: time.Minute}}}})
	// No trusted proxies: a client rotating X-Forwarded-For is still one client.
	if res := r.do(fromClient(httptest.NewRequest("GET", "/image_codes/"+uuid.NewString()+"/", nil), "203.0.113.1")); res.status != http.StatusOK {
		t.Fatalf("first image: %d", res.status)
	}
	wantRetryAfter(t, r.do(fromClient(httptest.NewRequest("GET", "/image_codes/"+uuid.NewString()+"/", nil), "203.0.113.2")), time.Minute)
}

func TestClientIP_RightmostUntrustedForwardedAddressIsTheClient(t *testing.T) {
	l := memory.NewLimiter(system.Clock{})
	cfg := httpapi.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32"), netip.MustParsePrefix("10.0.0.0/8")}}
	r := newRigWith(t, memoryStore(t), rigOptions{limiter: l, cfg: cfg,
		limits: domain.Limits{IPCaptcha: []domain.Quota{{Max: 1, Window: time.Minute}}}})
	image := func(xff string) response {
		return r.do(fromClient(httptest.NewRequest("GET", "/image_codes/"+uuid.NewString()+"/", nil), xff))
	}
	// The client made up the first entry; the proxy at 10.1.1.1 appended the
	// real address 203.0.113.9. Changing the made-up part changes nothing.
	if res := image("1.1.1.1, 203.0.113.9, 10.1.1.1"); res.status != http.StatusOK {
		t.Fatalf("first image: %d", res.status)
	}
	wantRetryAfter(t, image("2.2.2.2, 203.0.113.9, 10.1.1.1"), time.Minute)
	if res := image("203.0.113.10"); res.status != http.StatusOK {
		t.Fatalf("another client behind the proxy got %d", res.status)
	}
}
