package test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// byID reads an element in page expressions.
func byID(id string) string { return `document.getElementById('` + id + `')` }

// waitCaptcha waits until the page shows a captcha other than previous,
// fully loaded from the data URI POST /api/v1/captchas answered, and returns
// its id.
func (b *browser) waitCaptcha(previous string) string {
	b.t.Helper()
	b.waitFor("a new captcha image", `(() => {
		const img = `+byID("captcha")+`;
		return img.dataset.uuid && img.dataset.uuid !== '`+previous+`' &&
			img.src.startsWith('data:image/png;base64,') &&
			img.complete && img.naturalWidth === 240 && !img.classList.contains('loading');
	})()`)
	id := eval[string](b, byID("captcha")+`.dataset.uuid`)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		b.t.Fatalf("captcha uuid %q is not a random UUID", id)
	}
	return id
}

// retype selects a field's text and types over it, as a user would.
func (b *browser) retype(id, text string) {
	b.t.Helper()
	b.do("retype #"+id,
		chromedp.Evaluate[chromedp.Void](`(e => { e.focus(); e.select(); })(`+byID(id)+`)`),
		chromedp.KeyEvent(text))
}

// doubleClick presses the mouse twice on an element, as a double click does.
func (b *browser) doubleClick(id string) {
	b.t.Helper()
	xy := eval[[]float64](b, `(r => [r.x + r.width / 2, r.y + r.height / 2])(`+byID(id)+`.getBoundingClientRect())`)
	b.do("double-click #"+id,
		chromedp.MouseClickXY(xy[0], xy[1]),
		chromedp.MouseClickXY(xy[0], xy[1], chromedp.ClickCount(2)))
}

// countdownOf reads the seconds a "Resend in N s" label shows.
func (b *browser) countdownOf() int {
	b.t.Helper()
	label := eval[string](b, byID("send-sms")+`.textContent`)
	m := regexp.MustCompile(`^Resend in (\d+) s$`).FindStringSubmatch(label)
	if m == nil {
		b.t.Fatalf("SMS button says %q, want a countdown", label)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// wrongAnswer returns a 4-character answer that is not answer.
func wrongAnswer(answer string) string {
	if strings.EqualFold(answer, "wxyz") {
		return "zyxw"
	}
	return "wxyz"
}

var smsRequest = regexp.MustCompile(`^POST /api/v1/sms-codes$`)

// TestBrowser_RegistrationPageWholeFlow drives the page in headless Chromium
// against the real binary on Redis, reading what a user would read: the
// captcha answer from Redis (standing in for eyes) and the SMS code from the
// log sender's line (standing in for the phone).
func TestBrowser_RegistrationPageWholeFlow(t *testing.T) {
	began := time.Now()
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
	sendSMS, verify := byID("send-sms"), byID("verify")

	// Load: a captcha under a UUID made by the page, the development note,
	// nothing to click yet.
	b.do("open the page", chromedp.Navigate(p.base+"/"))
	b.waitFor("the page script", byID("register")+`.dataset.ready === 'true'`)
	first := b.waitCaptcha("")
	if title := eval[string](b, `document.title`); !strings.Contains(title, "Create your account") {
		t.Errorf("title %q", title)
	}
	note := eval[string](b, `(`+byID("dev-note")+`?.innerText ?? '')`)
	for _, want := range []string{"verifyd process log", "sms (log sender, development only)"} {
		if !strings.Contains(note, want) {
			t.Errorf("development note %q lacks %q", note, want)
		}
	}
	if eval[bool](b, `!`+sendSMS+`.disabled || !`+verify+`.disabled`) {
		t.Error("buttons enabled on an empty form")
	}

	// A new captcha from the button, then from the image itself.
	b.do("click New image", chromedp.Click(chromedp.ID("new-captcha")))
	second := b.waitCaptcha(first)
	b.do("click the image", chromedp.Click(chromedp.ID("captcha")))
	third := b.waitCaptcha(second)

	// The mobile number is checked as it is typed and said wrong on leaving
	// the field; fixing it clears the error.
	b.do("type a short number and leave", chromedp.SendKeys(chromedp.ID("mobile"), "12345"), chromedp.KeyEvent(kb.Tab))
	b.waitFor("an error under the mobile field",
		byID("mobile")+`.getAttribute('aria-invalid') === 'true' && `+byID("mobile-msg")+`.textContent !== ''`)
	b.retype("mobile", mobile)
	b.waitFor("the mobile number accepted",
		`!`+byID("mobile")+`.hasAttribute('aria-invalid') && `+byID("mobile-msg")+`.textContent === '' && `+
			byID("mobile")+`.classList.contains('valid')`)

	// The SMS button waits for 4 characters of image code.
	wrong := wrongAnswer(captchaAnswer(t, rc, third))
	b.do("type 3 characters", chromedp.SendKeys(chromedp.ID("image-code"), wrong[:3]))
	if !eval[bool](b, sendSMS+`.disabled`) {
		t.Error("SMS button enabled with 3 characters of image code")
	}
	b.do("type the 4th", chromedp.SendKeys(chromedp.ID("image-code"), wrong[3:]))
	b.waitFor("the SMS button enabled", `!`+sendSMS+`.disabled`)

	// A wrong image code, double-clicked: one request, the error under the
	// image field, a new captcha and an empty field to type it in.
	before := b.watch.count(smsRequest)
	b.doubleClick("send-sms")
	fourth := b.waitCaptcha(third)
	b.waitFor("the image code error",
		byID("image-code-msg")+`.textContent.includes('Incorrectly entered') && `+byID("image-code")+`.getAttribute('aria-invalid') === 'true' && `+
			byID("image-code")+`.value === '' && document.activeElement.id === 'image-code' && `+byID("sms-code-msg")+`.textContent === ''`)
	if n := b.watch.count(smsRequest) - before; n != 1 {
		t.Errorf("a double click sent %d SMS requests, want 1", n)
	}

	// The right image code: the code goes out, the button counts down, and
	// the spent captcha is replaced.
	b.do("type the right image code", chromedp.SendKeys(chromedp.ID("image-code"), strings.ToUpper(captchaAnswer(t, rc, fourth))))
	b.waitFor("the SMS button enabled", `!`+sendSMS+`.disabled`)
	b.do("click Get SMS code", chromedp.Click(chromedp.ID("send-sms")))
	fifth := b.waitCaptcha(fourth)
	b.waitFor("the countdown",
		`/^Resend in \d+ s$/.test(`+sendSMS+`.textContent) && `+sendSMS+`.disabled && `+
			byID("sms-code-msg")+`.textContent.includes('Code sent') && `+byID("image-code")+`.value === '' && `+
			`document.activeElement.id === 'sms-code'`)
	code := p.waitLog(regexp.MustCompile(`"msg":"sms \(log sender, development only\)".*"to":"\+86` + mobile +
		`","text":"Your verification code is (\d{6})\.`))
	if n := b.countdownOf(); n < 50 || n > 60 {
		t.Errorf("countdown starts at %d s, want about 60", n)
	} else {
		b.waitFor("the countdown to tick", `/^Resend in \d+ s$/.test(`+sendSMS+`.textContent) && parseInt(`+
			sendSMS+`.textContent.replace(/\D/g, ''), 10) < `+strconv.Itoa(n))
	}
	b.do("type a new image code", chromedp.SendKeys(chromedp.ID("image-code"), captchaAnswer(t, rc, fifth)))
	if !eval[bool](b, sendSMS+`.disabled`) {
		t.Error("SMS button enabled during the countdown")
	}

	// A reload forgets the countdown, the server does not: asking again
	// (with Enter, from the keyboard) is throttled, and the page counts down
	// from Retry-After.
	b.do("reload", chromedp.Reload())
	b.waitFor("the page script", byID("register")+`.dataset.ready === 'true'`)
	sixth := b.waitCaptcha("")
	b.do("ask again with Enter",
		chromedp.SendKeys(chromedp.ID("mobile"), mobile),
		chromedp.SendKeys(chromedp.ID("image-code"), captchaAnswer(t, rc, sixth)),
		chromedp.KeyEvent(kb.Enter))
	b.waitCaptcha(sixth)
	b.waitFor("the throttle countdown",
		`/^Resend in \d+ s$/.test(`+sendSMS+`.textContent) && `+sendSMS+`.disabled && `+
			byID("sms-code-msg")+`.textContent.includes('ask for a new code in') && `+byID("image-code")+`.value === ''`)
	if n := b.countdownOf(); n < 30 || n > 60 {
		t.Errorf("throttle countdown at %d s, want Retry-After (up to 60 s)", n)
	}

	// A wrong SMS code, submitted with Enter, then the right one.
	wrongCode := "000000"
	if code == wrongCode {
		wrongCode = "111111"
	}
	b.do("type a wrong SMS code and press Enter", chromedp.SendKeys(chromedp.ID("sms-code"), wrongCode), chromedp.KeyEvent(kb.Enter))
	b.waitFor("the SMS code error",
		byID("sms-code-msg")+`.textContent.includes('Incorrectly entered') && `+byID("sms-code")+`.getAttribute('aria-invalid') === 'true' && `+
			`document.activeElement.id === 'sms-code' && `+byID("result")+`.textContent === ''`)
	b.retype("sms-code", code)
	b.waitFor("the Verify button enabled", `!`+verify+`.disabled`)
	b.do("click Verify", chromedp.Click(chromedp.ID("verify")))
	b.waitFor("success",
		byID("result")+`.classList.contains('ok') && `+byID("result")+`.textContent.includes('is verified') && `+
			byID("register-fields")+`.disabled && `+byID("sms-code-msg")+`.textContent === ''`)

	desktop := b.screenshot("registration-desktop.png")
	// Readable on a phone: nothing wider than the screen.
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.waitFor("no sideways scrolling on a phone", `document.documentElement.scrollWidth <= window.innerWidth`)
	phone := b.screenshot("registration-phone.png")
	t.Logf("screenshots: %s, %s", desktop, phone)

	b.watch.assertClean(t)
	t.Logf("flow took %s", time.Since(began).Round(time.Millisecond))
}

// TestBrowser_WatchCatchesCSPViolationsErrorsAndExceptions proves the
// browser test would notice a broken page: inline code blocked by the CSP, a
// console error and an uncaught exception all count.
func TestBrowser_WatchCatchesCSPViolationsErrorsAndExceptions(t *testing.T) {
	csp := "default-src 'none'; script-src 'self'; style-src 'self'"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(`<!doctype html><title>broken</title><link rel="icon" href="data:,">` +
				`<p style="color:red">inline style</p><script>document.title = 'inline ran'</script>` +
				`<script src="/broken.js"></script>`))
		case "/broken.js":
			w.Header().Set("Content-Type", "text/javascript")
			w.Write([]byte(`console.error('page error'); document.title = 'loaded'; null.boom;`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	b := newBrowser(t)
	b.do("open the broken page", chromedp.Navigate(srv.URL+"/"))
	b.waitFor("the script", `document.title === 'loaded'`)
	want := map[string]*regexp.Regexp{
		"inline script": regexp.MustCompile(`CSP violation: script-src-elem blocked inline`),
		"inline style":  regexp.MustCompile(`CSP violation: style-src-attr blocked inline`),
		"console.error": regexp.MustCompile(`^console.error: page error$`),
		"exception":     regexp.MustCompile(`^uncaught exception at .*/broken.js:1: .*TypeError`),
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		problems := strings.Join(b.watch.Problems(), "\n")
		missing := []string{}
		for name, re := range want {
			if !regexp.MustCompile(`(?m)` + re.String()).MatchString(problems) {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("watch missed %v; it saw:\n%s", missing, problems)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
