package test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// spaPage is a single-page app on another site than verifyd: a blank page
// whose script is whatever the test evaluates in it.
func spaPage(t *testing.T) (origin string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>shop</title><link rel="icon" href="data:,"><img id="captcha" alt=""><audio id="audio"></audio>`))
	}))
	t.Cleanup(srv.Close)
	// The page is served as localhost and verifyd called as 127.0.0.1:
	// different hosts, so the browser treats every call as cross-site.
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return "http://localhost:" + port
}

// fetched is what a page's fetch saw.
type fetched struct {
	Status int             `json:"status"`
	Type   string          `json:"type"`
	Body   json.RawMessage `json:"body"`
	Error  string          `json:"error"`
}

// fetchJSON calls url from the page with fetch and returns what the page
// could read.
func (b *browser) fetchJSON(method, url, body string) fetched {
	b.t.Helper()
	init := `{method: '` + method + `'}`
	if body != "" {
		init = `{method: '` + method + `', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(` + body + `)}`
	}
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`fetch('`+url+`', `+init+`)
		.then(r => r.text().then(t => JSON.stringify({status: r.status, type: r.headers.get('Content-Type'), body: t ? JSON.parse(t) : null})))
		.catch(e => JSON.stringify({error: String(e)}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("fetch %s %s: %v", method, url, err)
	}
	var f fetched
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		b.t.Fatalf("fetch %s %s: %q: %v", method, url, raw, err)
	}
	return f
}

// sendBlind sends a request the way a hostile page can without CORS: a
// no-cors fetch, which a browser sends without asking first and whose answer
// the page cannot read.
func (b *browser) sendBlind(method, url, body string) {
	b.t.Helper()
	init := `{method: '` + method + `', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}}`
	if body != "" {
		init = `{method: '` + method + `', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: ` + body + `}`
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`fetch('`+url+`', `+init+`).then(() => true, () => true)`, chromedp.EvalAwaitPromise)); err != nil {
		b.t.Fatalf("no-cors %s %s: %v", method, url, err)
	}
}

// TestBrowser_SecondOriginAllowedWorksOthersRefused drives /api/v1/ from
// pages on two other sites, one in VERIFY_CORS_ORIGINS: the allowed page
// gets a captcha, hears it, gets and verifies a code; the other page cannot
// read an answer, and what it sends blind (to the API and to the seed's
// plain-GET SMS route) is refused by the server, not only by the browser.
func TestBrowser_SecondOriginAllowedWorksOthersRefused(t *testing.T) {
	redisURL, rc := testRedis(t)
	allowed, other := spaPage(t), spaPage(t)
	p := start(t, "verifyd", map[string]string{
		"VERIFY_ADDR":         freeAddr(t),
		"VERIFY_STORE":        "redis",
		"VERIFY_REDIS_URL":    redisURL,
		"VERIFY_CODE_SECRET":  testSecret,
		"VERIFY_SMS_PROVIDER": "log",
		"VERIFY_CORS_ORIGINS": allowed,
	})
	p.waitReady()
	api := p.base + "/api/v1"

	// The allowed shop: captcha, audio, SMS, verification.
	b := newBrowser(t)
	b.do("open the allowed shop", chromedp.Navigate(allowed+"/"))
	res := b.fetchJSON("POST", api+"/captchas", "")
	var c struct {
		ID    string `json:"id"`
		Image string `json:"image"`
	}
	if err := json.Unmarshal(res.Body, &c); res.Status != http.StatusCreated || err != nil {
		t.Fatalf("captcha: %+v (%v)", res, err)
	}
	b.do("show the captcha", chromedp.Evaluate[chromedp.Void](byID("captcha")+`.src = '`+c.Image+`'`))
	b.waitFor("the captcha image", byID("captcha")+`.complete && `+byID("captcha")+`.naturalWidth === 240`)

	// The page plays the audio through a blob, as an app does with fetch.
	b.do("play the audio", chromedp.Evaluate[chromedp.Void](`fetch('`+api+`/captchas/`+c.ID+`/audio?lang=zh')
		.then(r => r.blob()).then(blob => { const a = `+byID("audio")+`; a.dataset.type = blob.type; a.src = URL.createObjectURL(blob); a.load(); })`))
	b.waitFor("a playable recording", byID("audio")+`.readyState >= 1 && `+byID("audio")+`.duration > 5 && `+byID("audio")+`.dataset.type === 'audio/wav'`)
	heard := captchaAnswer(t, rc, c.ID)
	if !regexp.MustCompile(`^\d{6}$`).MatchString(heard) {
		t.Fatalf("audio answer %q", heard)
	}

	mobile := randomMobile(t)
	res = b.fetchJSON("POST", api+"/sms-codes", `{mobile: '`+mobile+`', captcha_id: '`+c.ID+`', captcha_answer: '`+heard+`'}`)
	if res.Status != http.StatusAccepted {
		t.Fatalf("SMS request from the allowed shop: %+v", res)
	}
	code := p.waitLog(regexp.MustCompile(`"to":"\+86` + mobile + `","text":"[^"]*?(\d{6})`))
	res = b.fetchJSON("POST", api+"/sms-codes/verify", `{mobile: '`+mobile+`', code: '`+code+`'}`)
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"code":"0"`) {
		t.Fatalf("verification from the allowed shop: %+v", res)
	}
	b.watch.assertClean(t)

	// Another site: nothing it asks for can be read.
	e := newBrowser(t)
	e.do("open the other site", chromedp.Navigate(other+"/"))
	if res := e.fetchJSON("POST", api+"/captchas", ""); res.Error == "" {
		t.Fatalf("the other site read a captcha: %+v", res)
	}
	// What it sends blind is refused by verifyd itself: it would spend a
	// captcha its owner solved on this visitor's address.
	id := uuidFromRedis(t, p)
	answer := captchaAnswer(t, rc, id)
	victim := randomMobile(t)
	e.sendBlind("POST", api+"/sms-codes", `'{"mobile":"`+victim+`","captcha_id":"`+id+`","captcha_answer":"`+answer+`"}'`)
	if route := p.waitLog(regexp.MustCompile(`"method":"POST","route":"([^"]*)","status":403`)); route != "/api/v1/sms-codes" {
		t.Errorf("refused POST on route %q", route)
	}
	e.sendBlind("GET", p.base+"/sms_codes/"+victim+"/?uuid="+id+"&image_code="+answer, "")
	if route := p.waitLog(regexp.MustCompile(`"method":"GET","route":"([^"]*)","status":403`)); !strings.HasPrefix(route, "/sms_codes/") {
		t.Errorf("refused GET on route %q", route)
	}
	if strings.Contains(p.output(), `"to":"+86`+victim+`"`) {
		t.Fatal("a refused cross-site request sent an SMS")
	}
	// Refused before the captcha was looked at: still there for its owner.
	if got := captchaAnswer(t, rc, id); got != answer {
		t.Fatalf("the refusals spent the captcha: %q", got)
	}
}

// uuidFromRedis issues a captcha the way the other site's owner would, from
// a server of its own, and returns its id.
func uuidFromRedis(t *testing.T, p *process) string {
	t.Helper()
	res, err := http.Post(p.base+"/api/v1/captchas", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var c struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&c); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("captcha: %d %v", res.StatusCode, err)
	}
	return c.ID
}

// TestBrowser_ListenButtonSpeaksTheCaptchaAndItsDigitsWork clicks the
// registration page's "Listen" button: the <audio> element gets a playable
// WAV of six digits, the image is marked spent, and the digits, typed, get
// a code that verifies.
func TestBrowser_ListenButtonSpeaksTheCaptchaAndItsDigitsWork(t *testing.T) {
	redisURL, rc := testRedis(t)
	p := start(t, "verifyd", map[string]string{
		"VERIFY_ADDR":         freeAddr(t),
		"VERIFY_STORE":        "redis",
		"VERIFY_REDIS_URL":    redisURL,
		"VERIFY_CODE_SECRET":  testSecret,
		"VERIFY_SMS_PROVIDER": "log",
	})
	p.waitReady()
	b := newBrowser(t)
	mobile := randomMobile(t)
	audio, sendSMS := byID("captcha-audio"), byID("send-sms")

	b.do("open the page", chromedp.Navigate(p.base+"/"))
	b.waitFor("the page script", byID("register")+`.dataset.ready === 'true'`)
	id := b.waitCaptcha("")
	imageAnswer := captchaAnswer(t, rc, id)
	b.do("type the mobile", chromedp.SendKeys(chromedp.ID("mobile"), mobile))

	b.do("click Listen", chromedp.Click(chromedp.ID("listen-captcha")))
	b.waitFor("a playable recording in the <audio> element",
		`!`+audio+`.hidden && `+audio+`.src.startsWith('blob:') && `+audio+`.dataset.uuid === '`+id+`' && `+
			audio+`.error === null && `+audio+`.readyState >= 3 && `+audio+`.duration > 5`)
	// Chromium decoded it (a duration, no error) from what verifyd sent as
	// audio/wav: the page cannot fetch the blob: URL again under its CSP.
	if typ := eval[string](b, audio+`.dataset.type`); typ != "audio/wav" {
		t.Fatalf("the recording came as %q, want audio/wav", typ)
	}
	digits := captchaAnswer(t, rc, id)
	if !regexp.MustCompile(`^\d{6}$`).MatchString(digits) || digits == imageAnswer {
		t.Fatalf("after Listen the answer is %q (image's was %q), want six new digits", digits, imageAnswer)
	}
	b.waitFor("the image marked spent and the field asking for digits",
		byID("captcha")+`.classList.contains('spent') && `+byID("image-code")+`.maxLength === 6 && `+
			byID("image-code-hint")+`.textContent.includes('6 digits')`)

	b.do("type the digits heard", chromedp.SendKeys(chromedp.ID("image-code"), digits))
	b.waitFor("the SMS button enabled", `!`+sendSMS+`.disabled`)
	b.do("click Get SMS code", chromedp.Click(chromedp.ID("send-sms")))
	b.waitFor("the code sent",
		`/^Resend in \d+ s$/.test(`+sendSMS+`.textContent) && `+byID("sms-code-msg")+`.textContent.includes('Code sent') && `+
			audio+`.hidden && !`+byID("captcha")+`.classList.contains('spent')`)
	code := p.waitLog(regexp.MustCompile(`"to":"\+86` + mobile + `","text":"[^"]*?(\d{6})`))
	b.do("type the SMS code and verify", chromedp.SendKeys(chromedp.ID("sms-code"), code), chromedp.Click(chromedp.ID("verify")))
	b.waitFor("success", byID("result")+`.classList.contains('ok')`)
	b.watch.assertClean(t)
}
