package test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/google/uuid"

	"github.com/lemonmall/verifyd/adapters/system"
	"github.com/lemonmall/verifyd/domain"
)

func randomMobile(t testing.TB) string {
	t.Helper()
	d, err := system.Random{}.String(8, domain.Digits)
	if err != nil {
		t.Fatal(err)
	}
	return "138" + d
}

// TestE2E_WholeFlowOverHTTPOnRedis walks the seed's flow against the real
// binary: captcha, SMS request, resend refusal, wrong and right SMS codes,
// then a clean SIGTERM shutdown.
func TestE2E_WholeFlowOverHTTPOnRedis(t *testing.T) {
	redisURL, rc := testRedis(t)
	p := start(t, "verifyd", map[string]string{
		"VERIFY_ADDR":         freeAddr(t),
		"VERIFY_STORE":        "redis",
		"VERIFY_REDIS_URL":    redisURL,
		"VERIFY_CODE_SECRET":  testSecret,
		"VERIFY_SMS_PROVIDER": "log",
	})
	p.waitReady()
	mobile := randomMobile(t)

	// A captcha image, and its answer as the store keeps it.
	id := uuid.NewString()
	res, err := http.Get(p.base + "/image_codes/" + id + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("image: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
	}
	imageCode := captchaAnswer(t, rc, id)
	if len(imageCode) != 4 || strings.ContainsAny(imageCode, "01ilo") {
		t.Errorf("captcha answer %q: want 4 characters without look-alikes", imageCode)
	}

	// Wrong image code: 4001, and the challenge is spent.
	wrongID := uuid.NewString()
	http.Get(p.base + "/image_codes/" + wrongID + "/")
	call(t, "GET", p.base+"/sms_codes/"+mobile+"/?"+url.Values{"uuid": {wrongID}, "image_code": {"zzzz"}}.Encode(), nil).
		want(t, 200, "4001")

	// Right image code (any case): the code goes out through the log sender.
	call(t, "GET", p.base+"/sms_codes/"+mobile+"/?"+url.Values{"uuid": {id}, "image_code": {strings.ToUpper(imageCode)}}.Encode(), nil).
		want(t, 200, "0")
	code := p.waitLog(regexp.MustCompile(`"to":"\+86` + mobile + `","text":"Your verification code is (\d{6})\. It expires in 5 minutes\."`))

	// A second request within 60 s is throttled, whatever the captcha.
	id2 := uuid.NewString()
	http.Get(p.base + "/image_codes/" + id2 + "/")
	a := call(t, "POST", p.base+"/sms_codes/+86"+mobile+"/", url.Values{"uuid": {id2}, "image_code": {captchaAnswer(t, rc, id2)}})
	a.want(t, 200, "4002")
	if a.RetryAfter == "" {
		t.Error("4002 without Retry-After")
	}
	if a.ErrMsg != "Send messages too frequently" {
		t.Errorf("errmsg %q, want the seed's", a.ErrMsg)
	}
	// As in the seed, the phone's interval is checked before the captcha:
	// the refused request left it valid, for another phone.
	other := randomMobile(t)
	call(t, "POST", p.base+"/sms_codes/"+other+"/", url.Values{"uuid": {id2}, "image_code": {captchaAnswer(t, rc, id2)}}).
		want(t, 200, "0")
	// A captcha the seed's application wrote (upper case) is accepted typed
	// in lower case.
	seedID := uuid.NewString()
	if err := rc.Do(t.Context(), rc.B().Setex().Key("img_"+seedID).Seconds(300).Value("ABCD").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	call(t, "POST", p.base+"/sms_codes/"+randomMobile(t)+"/", url.Values{"uuid": {seedID}, "image_code": {"abcd"}}).
		want(t, 200, "0")

	// Wrong SMS code, then the right one once.
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	call(t, "POST", p.base+"/sms_codes/"+mobile+"/verify/", url.Values{"sms_code": {wrong}}).want(t, 200, "4008")
	call(t, "POST", p.base+"/sms_codes/"+mobile+"/verify/", url.Values{"sms_code": {code}}).want(t, 200, "0")
	call(t, "POST", p.base+"/sms_codes/"+mobile+"/verify/", url.Values{"sms_code": {code}}).want(t, 200, "4008")

	// Redis holds a digest of the code, never the code.
	if v, _ := rc.Do(t.Context(), rc.B().Hgetall().Key("sms_{+86"+mobile+"}").Build()).AsStrMap(); strings.Contains(strings.Join(mapValues(v), ""), code) {
		t.Error("plain code stored in Redis")
	}

	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	// Only the log sender's own line may hold the code.
	for _, line := range strings.Split(p.output(), "\n") {
		if strings.Contains(line, code) && !strings.Contains(line, "log sender") {
			t.Errorf("code leaked in log line: %s", line)
		}
	}
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestE2E_StartsOnTheEmbeddedDefaultWithoutSetup is what `make run` does.
func TestE2E_StartsOnTheEmbeddedDefaultWithoutSetup(t *testing.T) {
	p := start(t, "verifyd", map[string]string{"VERIFY_ADDR": freeAddr(t)})
	p.waitReady()
	call(t, "GET", p.base+"/healthz", nil).want(t, 200, "0")
	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

// TestE2E_BadConfigurationFailsWithOneLinePerValue checks the start-up
// errors operators see.
func TestE2E_BadConfigurationFailsWithOneLinePerValue(t *testing.T) {
	p := start(t, "verifyd", map[string]string{
		"VERIFY_STORE":          "postgres",
		"VERIFY_SMS_PROVIDER":   "twilio",
		"VERIFY_DEFAULT_REGION": "XX",
		"VERIFY_CODE_SECRET":    "short",
	})
	if err := p.wait(); err == nil {
		t.Fatal("started with a bad configuration")
	}
	out := p.output()
	for _, want := range []string{
		`VERIFY_STORE="postgres": want memory or redis`,
		`VERIFY_DEFAULT_REGION="XX"`,
		`VERIFY_CODE_SECRET: must be at least 32 bytes`,
		`VERIFY_SMS_PROVIDER=twilio`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
