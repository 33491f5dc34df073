package test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// seedTexts are the errmsg texts the seed's page must show.
type seedTexts struct{ wrongImage, refused, tooFrequent string }

// TestSeedPage_ShowsTheServersErrorsInItsLanguage serves a register page
// written as the seed's is (axios: only a 2xx answer reaches the code that
// shows errmsg) unchanged, on the same origin as verifyd behind a reverse
// proxy, and drives it in headless Chromium: a wrong image code, a refused
// number and a resend within 60 s each show the server's errmsg, in English
// and, with Accept-Language zh-CN, in Chinese.
func TestSeedPage_ShowsTheServersErrorsInItsLanguage(t *testing.T) {
	redisURL, rc := testRedis(t)
	p := start(t, "verifyd", map[string]string{
		"VERIFY_ADDR":         freeAddr(t),
		"VERIFY_STORE":        "redis",
		"VERIFY_REDIS_URL":    redisURL,
		"VERIFY_CODE_SECRET":  testSecret,
		"VERIFY_SMS_PROVIDER": "log",
	})
	p.waitReady()
	front := seedFront(t, p.base)

	for _, c := range []struct {
		acceptLanguage string
		want           seedTexts
		ownPageButton  string // verifyd's own page, in the same language
	}{
		{"", seedTexts{"Incorrectly entered graphical verification code", "Please enter a correct mobile number", "Send messages too frequently"}, "Get SMS code"},
		{"zh-CN,zh;q=0.9", seedTexts{"输入图形验证码有误", "请输入正确的手机号码", "发送短信过于频繁"}, "获取短信验证码"},
	} {
		t.Run("Accept-Language="+c.acceptLanguage, func(t *testing.T) {
			b := newBrowser(t)
			if c.acceptLanguage != "" {
				if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
					t.Fatal(err)
				}
				if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders,
					network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": c.acceptLanguage}}); err != nil {
					t.Fatal(err)
				}
			}
			b.do("open the seed's page", chromedp.Navigate(front+"/register.html"))
			id := b.waitSeedCaptcha("")

			// A wrong image code.
			b.retype("phone", randomMobile(t))
			b.retype("pic_code", wrongAnswer(captchaAnswer(t, rc, id)))
			b.do("click Get SMS code", chromedp.Click(chromedp.ID("get_msg_code")))
			b.waitSeedMessage("error_image_code", c.want.wrongImage)

			// A number verifyd refuses (4007) though the page's own check
			// passes it. A new image first, as a user would click it.
			b.do("click the image", chromedp.Click(chromedp.ID("image_code_img")))
			id = b.waitSeedCaptcha(id)
			b.retype("phone", "15400000000")
			b.retype("pic_code", captchaAnswer(t, rc, id))
			b.do("click Get SMS code", chromedp.Click(chromedp.ID("get_msg_code")))
			b.waitSeedMessage("error_sms_code", c.want.refused)

			// The refused number did not spend the captcha: the same answer
			// sends a code to a good number, and the countdown starts.
			mobile := randomMobile(t)
			b.retype("phone", mobile)
			b.do("click Get SMS code", chromedp.Click(chromedp.ID("get_msg_code")))
			b.waitFor("the seed's countdown", `/^\d+ s$/.test(`+byID("get_msg_code")+`.textContent)`)

			// The same number again within 60 s, from a fresh page (the
			// seed's button is locked during its countdown).
			b.do("reload the page", chromedp.Reload())
			id = b.waitSeedCaptcha("")
			b.retype("phone", mobile)
			b.retype("pic_code", captchaAnswer(t, rc, id))
			b.do("click Get SMS code", chromedp.Click(chromedp.ID("get_msg_code")))
			b.waitSeedMessage("error_sms_code", c.want.tooFrequent)

			// verifyd's own page speaks the same language, its script too.
			b.do("open verifyd's page", chromedp.Navigate(p.base+"/"))
			b.waitFor("verifyd's page in the browser's language", byID("register")+`.dataset.ready === 'true' && `+
				byID("send-sms")+`.textContent === '`+c.ownPageButton+`'`)

			// Every answer was a 2xx: a refused one would be a console error.
			b.watch.assertClean(t)
		})
	}
}

// seedFront serves the seed's page and proxies the seed's routes to
// verifyd, so both share one origin as in the seed's deployment.
func seedFront(t *testing.T, verifyd string) string {
	t.Helper()
	target, err := url.Parse(verifyd)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	files := http.FileServer(http.Dir("testdata/seedpage"))
	mux := http.NewServeMux()
	mux.Handle("/image_codes/", proxy)
	mux.Handle("/sms_codes/", proxy)
	mux.Handle("/register.html", files)
	mux.Handle("/static/js/", http.StripPrefix("/static/js", files))
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

var seedCaptchaPath = regexp.MustCompile(`^/image_codes/([0-9a-f-]{36})/$`)

// waitSeedCaptcha waits until the seed's page shows a captcha other than
// previous and returns its uuid.
func (b *browser) waitSeedCaptcha(previous string) string {
	b.t.Helper()
	img := byID("image_code_img")
	b.waitFor("the seed page's captcha", `(() => {
		const img = `+img+`;
		const previous = '`+previous+`';
		return img.src && (previous === '' || !img.src.includes(previous)) && img.complete && img.naturalWidth === 240;
	})()`)
	u, err := url.Parse(eval[string](b, img+`.src`))
	if err != nil {
		b.t.Fatal(err)
	}
	m := seedCaptchaPath.FindStringSubmatch(u.Path)
	if m == nil {
		b.t.Fatalf("captcha at %q", u.Path)
	}
	return m[1]
}

// waitSeedMessage waits until the seed's page shows text in the error span.
func (b *browser) waitSeedMessage(id, text string) {
	b.t.Helper()
	b.waitFor("#"+id+" to say "+text, `!`+byID(id)+`.hidden && `+byID(id)+`.textContent === '`+text+`'`)
}
