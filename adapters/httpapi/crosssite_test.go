package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/lemonmall/verifyd/adapters/httpapi"
)

const allowedOrigin = "https://shop.example"

func corsRig(t *testing.T, origins ...string) *rig {
	return newRigWith(t, memoryStore(t), rigOptions{cfg: httpapi.Config{CORSOrigins: origins}})
}

// browser makes req look like a browser's request from a page of origin,
// on another site.
func browser(req *http.Request, origin string) *http.Request {
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	return req
}

func preflight(path, origin string) *http.Request {
	req := httptest.NewRequest(http.MethodOptions, path, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	return req
}

func corsHeaders(h http.Header) []string {
	var out []string
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out = append(out, k)
		}
	}
	return out
}

func TestCORS_NoOriginConfiguredMeansNoCORSHeadersAtAll(t *testing.T) {
	r := corsRig(t)
	for _, req := range []*http.Request{
		preflight("/api/v1/sms-codes", allowedOrigin),
		browser(httptest.NewRequest(http.MethodPost, "/api/v1/captchas", nil), allowedOrigin),
		browser(httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil), allowedOrigin),
	} {
		res := r.do(req)
		if h := corsHeaders(res.header); len(h) != 0 {
			t.Errorf("%s %s: CORS headers %v", req.Method, req.URL, h)
		}
		if req.Method == http.MethodOptions && res.status < 400 {
			t.Errorf("preflight answered %d", res.status)
		}
	}
}

func TestCORS_AllowedOriginGetsHeadersWithoutCredentials(t *testing.T) {
	r := corsRig(t, "HTTPS://Shop.Example", "http://localhost:3000")
	res := r.do(preflight("/api/v1/sms-codes", allowedOrigin))
	if res.status != http.StatusNoContent || res.header.Get("Access-Control-Allow-Origin") != allowedOrigin ||
		!strings.Contains(res.header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(strings.ToLower(res.header.Get("Access-Control-Allow-Headers")), "content-type") {
		t.Fatalf("preflight: %d %v", res.status, res.header)
	}
	res = r.do(browser(httptest.NewRequest(http.MethodPost, "/api/v1/captchas", nil), allowedOrigin))
	if res.status != http.StatusCreated || res.header.Get("Access-Control-Allow-Origin") != allowedOrigin ||
		!strings.Contains(res.header.Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Fatalf("request: %d %v", res.status, res.header)
	}
	for _, res := range []response{res, r.do(preflight("/api/v1/captchas", "http://localhost:3000"))} {
		if res.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("credentials allowed: %v", res.header)
		}
		if !strings.Contains(res.header.Get("Vary"), "Origin") {
			t.Errorf("answer does not vary by Origin: %v", res.header)
		}
	}
}

func TestCORS_OtherOriginsGetNoHeadersAndTheirPreflightIsRefused(t *testing.T) {
	r := corsRig(t, allowedOrigin)
	res := r.do(preflight("/api/v1/sms-codes", "https://evil.example"))
	want(t, res, http.StatusForbidden, httpapi.CodeParamError)
	if h := corsHeaders(res.header); len(h) != 0 {
		t.Errorf("refused preflight carries %v", h)
	}
	res = r.do(browser(httptest.NewRequest(http.MethodPost, "/api/v1/captchas", nil), "https://evil.example"))
	if h := corsHeaders(res.header); len(h) != 0 || !strings.Contains(res.header.Get("Vary"), "Origin") {
		t.Errorf("other origin: CORS headers %v, Vary %q", h, res.header.Get("Vary"))
	}
}

func TestCORS_ServerRefusesOriginsThatCannotMatch(t *testing.T) {
	for _, o := range []string{"*", "https://shop.example/", "https://*.shop.example", "shop.example", "ftp://shop.example", "https://user@shop.example"} {
		if _, err := httpapi.ParseOrigin(o); err == nil {
			t.Errorf("ParseOrigin accepted %q", o)
		}
	}
	if got, err := httpapi.ParseOrigin(" HTTPS://Shop.Example:8443 "); err != nil || got != "https://shop.example:8443" {
		t.Errorf("ParseOrigin: %q %v", got, err)
	}
}

func TestCrossSite_RoutesThatSpendACaptchaOrCodeRefuseOtherSites(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRigWith(t, newStore(t), rigOptions{cfg: httpapi.Config{CORSOrigins: []string{allowedOrigin}}})
		mobile := newMobile()
		id, answer := r.captcha()
		seedGET := func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "/sms_codes/"+mobile+"/?uuid="+id+"&image_code="+answer, nil)
		}
		jsonPOST := func(path, body string) *http.Request {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			return req
		}
		// A link or an <img> on another site: no Origin at all.
		noOrigin := seedGET()
		noOrigin.Header.Set("Sec-Fetch-Site", "cross-site")
		for _, req := range []*http.Request{
			noOrigin,
			browser(seedGET(), "https://evil.example"),
			browser(jsonPOST("/sms_codes/"+mobile+"/", `{"uuid":"`+id+`","image_code":"`+answer+`"}`), "https://evil.example"),
			browser(jsonPOST("/sms_codes/"+mobile+"/verify/", `{"sms_code":"123456"}`), "https://evil.example"),
			browser(jsonPOST("/api/v1/sms-codes", smsBody(mobile, id, answer)), "https://evil.example"),
			browser(jsonPOST("/api/v1/sms-codes/verify", `{"mobile":"`+mobile+`","code":"123456"}`), "null"),
		} {
			want(t, r.do(req), http.StatusForbidden, httpapi.CodeParamError)
		}
		if r.inbox.count() != 0 {
			t.Fatal("a refused cross-site request sent an SMS")
		}
		// The captcha was not spent by the refusals: a same-site page (an
		// other port or subdomain of the site) may use it.
		sameSite := seedGET()
		sameSite.Header.Set("Sec-Fetch-Site", "same-site")
		want(t, r.do(sameSite), http.StatusOK, httpapi.CodeOK)

		// An allowed origin may, from another site.
		mobile = newMobile()
		id, answer = r.v1Captcha()
		want(t, r.do(browser(jsonPOST("/api/v1/sms-codes", smsBody(mobile, id, answer)), allowedOrigin)), http.StatusAccepted, httpapi.CodeOK)
		code := r.inbox.lastCode(t, "+86"+mobile)
		want(t, r.do(browser(jsonPOST("/api/v1/sms-codes/verify", `{"mobile":"`+mobile+`","code":"`+code+`"}`), allowedOrigin)), http.StatusOK, httpapi.CodeOK)
	})
}

func TestCrossSite_CaptchasMayBeShownFromOtherSites(t *testing.T) {
	r := corsRig(t)
	// Images spend nothing: pages embed them with <img>, which sends no
	// Origin.
	req := httptest.NewRequest(http.MethodGet, "/image_codes/"+uuid.NewString()+"/", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := r.do(req); res.status != http.StatusOK {
		t.Fatalf("cross-site image: %d", res.status)
	}
}
