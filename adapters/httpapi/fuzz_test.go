package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/lemonmall/verifyd/adapters/httpapi"
)

var knownCodes = map[string]bool{
	httpapi.CodeOK: true, httpapi.CodeImageCodeError: true, httpapi.CodeThrottled: true, httpapi.CodeParamError: true,
	httpapi.CodeMobileError: true, httpapi.CodeSMSCodeError: true, httpapi.CodeServiceUnavailable: true,
}

// FuzzHandlers sends arbitrary paths, content types and bodies to every
// route: whatever a client sends, the answer is a 2xx or 4xx with a known
// RETCODE (or the captcha image), never a 5xx or a panic.
func FuzzHandlers(f *testing.F) {
	seeds := []struct {
		method      bool // true: POST
		path, ctype string
		body        []byte
	}{
		{false, "/image_codes/0f8fad5b-d9cb-469f-a165-70867728950e/", "", nil},
		{false, "/image_codes/%00/", "", nil},
		{false, "/sms_codes/13800138000/?uuid=0f8fad5b-d9cb-469f-a165-70867728950e&image_code=ab3k", "", nil},
		{true, "/sms_codes/%2B8613800138000/", "application/json", []byte(`{"uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","image_code":"ab3k"}`)},
		{true, "/sms_codes/13800138000/", "application/x-www-form-urlencoded", []byte("uuid=x&image_code=%ff")},
		{true, "/sms_codes/13800138000/", "multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"uuid\"\r\n\r\nabc\r\n--x--\r\n")},
		{true, "/sms_codes/13800138000/verify/", "application/json", []byte(`{"sms_code":123456}`)},
		{true, "/sms_codes/13800138000/verify/", "application/json; charset=utf-8", []byte(`{"sms_code":"123456"}`)},
		{true, "/sms_codes/13800138000/verify/", "text/plain", []byte(`sms_code=123456`)},
		{false, "/sms_codes/../../", "", nil},
		{false, "/readyz", "", nil},
		{true, "/api/v1/captchas", "", nil},
		{false, "/api/v1/captchas/0f8fad5b-d9cb-469f-a165-70867728950e/audio?lang=zh", "", nil},
		{false, "/api/v1/captchas/%2e%2e/image", "", nil},
		{true, "/api/v1/sms-codes", "application/json", []byte(`{"mobile":"13800138000","captcha_id":"0f8fad5b-d9cb-469f-a165-70867728950e","captcha_answer":"123456"}`)},
		{true, "/api/v1/sms-codes/verify", "application/json", []byte(`{"mobile":["13800138000"],"code":null}`)},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.ctype, s.body)
	}
	r := newRig(f, memoryStore(f))
	f.Fuzz(func(t *testing.T, post bool, path, ctype string, body []byte) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		u, err := url.ParseRequestURI(path)
		if err != nil || len(path) > 2048 || strings.ContainsFunc(u.RequestURI(), func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return // not a request line a client could send
		}
		method := http.MethodGet
		if post {
			method = http.MethodPost
		}
		req := httptest.NewRequest(method, "http://verifyd.test"+u.RequestURI(), bytes.NewReader(body))
		if ctype != "" && !strings.ContainsAny(ctype, "\r\n") {
			req.Header.Set("Content-Type", ctype)
		}
		res, err := checkedTest(t, r.srv.App(), req)
		if err != nil {
			t.Fatalf("%s %q: %v", method, path, err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 500 {
			t.Fatalf("%s %q (%q, %q): status %d %s", method, path, ctype, body, res.StatusCode, raw)
		}
		if res.Header.Get("Content-Type") == "image/png" {
			return
		}
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			return // the web page and its assets
		}
		var a httpapi.Answer
		if err := json.Unmarshal(raw, &a); err != nil || !knownCodes[a.Code] || a.ErrMsg == "" {
			t.Fatalf("%s %q: answer %q is not {code, errmsg} with a known code", method, path, raw)
		}
	})
}
