package test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/lemonmall/verifyd/adapters/system"
)

// limitsClient returns a random address in its own /64 of the IPv6
// documentation range, so runs sharing the test Redis never share a limit.
func limitsClient(t *testing.T) string {
	t.Helper()
	d, err := system.Random{}.String(12, "0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	return "2001:db8:" + d[0:4] + ":" + d[4:8] + ":" + d[8:12] + "::7"
}

// from sends a request as the client behind a trusted proxy.
func from(t *testing.T, client, method, u string, form url.Values) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", client)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	a := answer{Status: res.StatusCode, RetryAfter: res.Header.Get("Retry-After")}
	switch res.Header.Get("Content-Type") {
	case "image/png":
		return a
	case "image/svg+xml":
		// The seed's route draws a refused captcha for the <img> to show.
		a.Code = "refusal picture"
		return a
	}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("%s %s: %d %q is not a JSON answer", method, u, res.StatusCode, raw)
	}
	return a
}

// TestLimits_ConfiguredLimitsHoldInTheRealBinary walks configuration,
// wiring and the Redis limiter together: per-client captcha and SMS quotas
// keyed on the X-Forwarded-For address a trusted proxy gives, and the
// default SMS region and line-type rules.
func TestLimits_ConfiguredLimitsHoldInTheRealBinary(t *testing.T) {
	redisURL, rc := testRedis(t)
	p := start(t, "verifyd", map[string]string{
		"VERIFY_ADDR":             freeAddr(t),
		"VERIFY_STORE":            "redis",
		"VERIFY_REDIS_URL":        redisURL,
		"VERIFY_CODE_SECRET":      testSecret,
		"VERIFY_TRUSTED_PROXIES":  "127.0.0.1/32, ::1",
		"VERIFY_LIMIT_IP_CAPTCHA": "3/1m",
		"VERIFY_LIMIT_IP_SMS":     "1/1h",
	})
	p.waitReady()
	alice, bob := limitsClient(t), limitsClient(t)

	image := func(client string) (string, answer) {
		id := uuid.NewString()
		return id, from(t, client, "GET", p.base+"/image_codes/"+id+"/", nil)
	}
	requestSMS := func(client, mobile string) answer {
		id, a := image(client)
		if a.Status != http.StatusOK {
			t.Fatalf("captcha for %s: %d %s", client, a.Status, a.Code)
		}
		return from(t, client, "POST", p.base+"/sms_codes/"+mobile+"/",
			url.Values{"uuid": {id}, "image_code": {captchaAnswer(t, rc, id)}})
	}

	// SMS: one request per client per hour; another client is not affected.
	requestSMS(alice, randomMobile(t)).want(t, 200, "0")
	a := requestSMS(alice, randomMobile(t))
	a.want(t, 200, "4002")
	if a.RetryAfter == "" {
		t.Error("4002 without Retry-After")
	}
	requestSMS(bob, randomMobile(t)).want(t, 200, "0")

	// Captchas: alice has used 2 of her 3 this minute.
	if _, a := image(alice); a.Status != http.StatusOK {
		t.Fatalf("third captcha: %d", a.Status)
	}
	_, a = image(alice)
	a.want(t, 200, "refusal picture")
	if a.RetryAfter == "" {
		t.Error("refused captcha without Retry-After")
	}

	// Regions and line types, with the defaults: CN mobiles only.
	carol := limitsClient(t)
	for _, mobile := range []string{"%2B447400123456", "01012345678"} {
		id, _ := image(carol)
		from(t, carol, "POST", p.base+"/sms_codes/"+mobile+"/", url.Values{"uuid": {id}, "image_code": {"abcd"}}).
			want(t, 200, "4007")
	}
}
