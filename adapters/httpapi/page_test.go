package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/adapters/phonenumber"
	"github.com/lemonmall/verifyd/application"
	"github.com/lemonmall/verifyd/domain"
)

// pageRig is a server for page tests. The page never calls the use cases,
// so zero values stand in for them and keep these tests independent of the
// use cases' constructors.
func pageRig(t *testing.T, cfg httpapi.Config) *rig {
	t.Helper()
	return pageRigWith(t, cfg, domain.DefaultPolicy())
}

// pageRigWith serves the page for policy.
func pageRigWith(t *testing.T, cfg httpapi.Config, policy domain.Policy) *rig {
	t.Helper()
	phones, err := phonenumber.NewParser("CN")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpapi.NewServer(cfg, httpapi.Deps{
		IssueImageChallenge: &application.IssueImageChallenge{},
		RequestSMSCode:      &application.RequestSMSCode{},
		VerifySMSCode:       &application.VerifySMSCode{},
		Phones:              phones,
		Policy:              policy,
		Ready:               func(context.Context) error { return nil },

		IssueCaptcha:          &application.IssueCaptcha{},
		RefreshImageChallenge: &application.RefreshImageChallenge{},
		IssueAudioChallenge:   &application.IssueAudioChallenge{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, srv: srv}
}

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func TestPage_IsHTMLWithItsSettingsInDataAttributes(t *testing.T) {
	r := pageRig(t, httpapi.Config{DefaultRegion: "cn"})
	res := r.get("/")
	if res.status != http.StatusOK {
		t.Fatalf("GET /: status %d %s", res.status, res.body)
	}
	for header, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-store",
		"Content-Security-Policy": wantCSP,
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := res.header.Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	body := string(res.body)
	for _, want := range []string{
		`data-development-sms="false"`,
		`data-default-region="CN"`,
		`data-captcha-length="4"`,
		`data-code-length="6"`,
		`data-resend-seconds="60"`,
		`<script src="/static/register.js" defer></script>`,
		`<link rel="stylesheet" href="/static/register.css">`,
		`<label for="mobile">`, `<label for="image-code">`, `<label for="sms-code">`,
		`aria-live="polite"`,
		`alt="Image code: 4 characters to type in the field"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(body, "dev-note") || strings.Contains(body, "log sender") {
		t.Error("page shows the development note without the log SMS sender")
	}
}

func TestPage_DevelopmentNoteSaysWhereCodesGoWithTheLogSender(t *testing.T) {
	r := pageRig(t, httpapi.Config{DevelopmentSMS: true, DefaultRegion: "US"})
	res := r.get("/")
	if res.status != http.StatusOK {
		t.Fatalf("GET /: status %d %s", res.status, res.body)
	}
	body := string(res.body)
	for _, want := range []string{
		`data-development-sms="true"`,
		`data-default-region="US"`,
		`id="dev-note"`,
		`verifyd process log`,
		`<code>sms (log sender, development only)</code>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// TestPage_HasNoInlineCodeTheCSPWouldBlock keeps the page working under
// script-src 'self' and style-src 'self'.
func TestPage_HasNoInlineCodeTheCSPWouldBlock(t *testing.T) {
	for _, dev := range []bool{false, true} {
		body := string(pageRig(t, httpapi.Config{DevelopmentSMS: dev}).get("/").body)
		for _, tag := range regexp.MustCompile(`(?i)<script\b[^>]*>`).FindAllString(body, -1) {
			if !strings.Contains(tag, ` src="/static/`) {
				t.Errorf("inline or foreign script: %s", tag)
			}
		}
		for name, re := range map[string]*regexp.Regexp{
			"<style> element":       regexp.MustCompile(`(?i)<style\b`),
			"style attribute":       regexp.MustCompile(`(?i)\sstyle\s*=`),
			"inline event handler":  regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
			"javascript: URL":       regexp.MustCompile(`(?i)javascript:`),
			"resource of an origin": regexp.MustCompile(`(?i)(src|href)="(https?:)?//`),
		} {
			if m := re.FindString(body); m != "" {
				t.Errorf("development=%v: page has a %s: %q", dev, name, m)
			}
		}
	}
}

func TestPage_TemplateEscapesTheConfiguration(t *testing.T) {
	body := string(pageRig(t, httpapi.Config{DefaultRegion: `x"><script>alert(1)</script>`}).get("/").body)
	if strings.Contains(strings.ToLower(body), "<script>alert") || strings.Contains(body, `data-default-region="X">`) {
		t.Fatalf("region not escaped:\n%s", body)
	}
}

func TestPage_StaticFilesHaveTheirContentTypesAndRevalidate(t *testing.T) {
	r := pageRig(t, httpapi.Config{})
	page := string(r.get("/").body)
	for path, want := range map[string]string{
		"/static/register.js":  "text/javascript; charset=utf-8",
		"/static/register.css": "text/css; charset=utf-8",
		"/static/favicon.svg":  "image/svg+xml",
	} {
		if !strings.Contains(page, `"`+path+`"`) {
			t.Errorf("page does not use %s", path)
		}
		res := r.get(path)
		if res.status != http.StatusOK || len(res.body) == 0 {
			t.Errorf("%s: status %d, %d bytes", path, res.status, len(res.body))
			continue
		}
		etag := res.header.Get("ETag")
		for header, wantValue := range map[string]string{
			"Content-Type":            want,
			"Cache-Control":           "no-cache",
			"Content-Security-Policy": wantCSP,
			"X-Content-Type-Options":  "nosniff",
		} {
			if got := res.header.Get(header); got != wantValue {
				t.Errorf("%s: %s %q, want %q", path, header, got, wantValue)
			}
		}
		if !regexp.MustCompile(`^"[0-9a-f]{24}"$`).MatchString(etag) {
			t.Errorf("%s: ETag %q", path, etag)
			continue
		}

		// A browser holding the current file gets a 304 without a body.
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("If-None-Match", `"stale", W/`+etag)
		if res := r.do(req); res.status != http.StatusNotModified || len(res.body) != 0 {
			t.Errorf("%s with If-None-Match %s: status %d, %d bytes", path, etag, res.status, len(res.body))
		}
		req = httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("If-None-Match", `"stale"`)
		if res := r.do(req); res.status != http.StatusOK {
			t.Errorf("%s with a stale ETag: status %d", path, res.status)
		}
	}
}

func TestPage_UnknownStaticPathIsA404Answer(t *testing.T) {
	r := pageRig(t, httpapi.Config{})
	for _, path := range []string{
		"/static/nope.js",
		"/static/index.html", // the template is not a static file
		"/static/",
		"/static/web/register.js",
		"/static/..%2Fpage.go",
		"/static/register.js/x",
	} {
		want(t, r.get(path), http.StatusNotFound, httpapi.CodeParamError)
	}
}

func TestPage_SpeaksTheRequestsLanguage(t *testing.T) {
	r := pageRig(t, httpapi.Config{})
	for al, want := range map[string][]string{
		"":               {`<html lang="en">`, `<h1>Create your account</h1>`, `Get SMS code`, `data-texts="{`},
		"zh-CN,zh;q=0.9": {`<html lang="zh-Hans">`, `<h1>注册账号</h1>`, `获取短信验证码`, `重新发送`},
	} {
		res := r.do(inLanguage(httptest.NewRequest(http.MethodGet, "/", nil), al))
		body := string(res.body)
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("Accept-Language %q: page lacks %s", al, w)
			}
		}
		if !strings.Contains(res.header.Get("Vary"), "Accept-Language") {
			t.Errorf("Accept-Language %q: no Vary: Accept-Language", al)
		}
	}
}

func TestPage_ShowsTheWiredPolicyNotTheDefault(t *testing.T) {
	p := domain.DefaultPolicy()
	p.CaptchaLength = 6
	p.ResendInterval = 90 * time.Second
	body := string(pageRigWith(t, httpapi.Config{}, p).get("/").body)
	for _, want := range []string{`data-captcha-length="6"`, `data-resend-seconds="90"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}
