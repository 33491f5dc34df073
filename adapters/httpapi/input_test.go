package httpapi_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/domain"
)

// A path is not a query string: a literal "+" in it is a plus sign, not a
// space. Read as a space, "+13055551234" became the national CN number
// 13055551234: another phone, in a region that is allowed.
func TestPath_LiteralPlusIsAPlus(t *testing.T) {
	r := newRigWith(t, memoryStore(t), rigOptions{limits: domain.Limits{SMSRegions: []string{"CN"}}})
	for _, mobile := range []string{"+13055551234", "%2B13055551234"} {
		want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeMobileError)
	}
	if r.inbox.count() != 0 {
		t.Fatalf("an SMS went out for a US number while only CN is allowed")
	}
	national := newMobile()
	for _, mobile := range []string{"+86" + national, "%2B86" + national} {
		id, answer := r.captcha()
		res := r.post("/sms_codes/"+mobile+"/", "application/json", `{"uuid":"`+id+`","image_code":"`+answer+`"}`)
		if mobile[0] == '+' {
			want(t, res, http.StatusOK, httpapi.CodeOK)
		} else {
			want(t, res, http.StatusOK, httpapi.CodeThrottled) // the same phone
		}
	}
	code := r.inbox.lastCode(t, "+86"+national)
	want(t, r.post("/sms_codes/+86"+national+"/verify/", "application/json", `{"sms_code":"`+code+`"}`), http.StatusOK, httpapi.CodeOK)
}

func TestPath_MalformedEscapesAreRefusedNotGuessed(t *testing.T) {
	r := newRig(t, memoryStore(t))
	base := r.serve()
	// net/http refuses to send such a path; a client that does gets 4007 or
	// 4003, not a number or id made up from the rest.
	for path, code := range map[string]string{
		"/sms_codes/%zz13800138000/?uuid=x&image_code=abcd": httpapi.CodeMobileError,
		"/image_codes/%zz/": httpapi.CodeParamError,
	} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		var a httpapi.Answer
		err = json.NewDecoder(res.Body).Decode(&a)
		res.Body.Close()
		conn.Close()
		if err != nil || res.StatusCode != http.StatusOK || a.Code != code {
			t.Errorf("GET %s: %d %+v %v, want 200 %s", path, res.StatusCode, a, err, code)
		}
	}
	// An escaped UUID is the same UUID.
	id, _ := r.captcha()
	if res := r.get("/image_codes/" + strings.Replace(id, "-", "%2D", 1) + "/"); res.status != http.StatusOK || res.header.Get("Content-Type") != "image/png" {
		t.Fatalf("escaped uuid: %d %s", res.status, res.body)
	}
}

// A POST is read from its body only: with fasthttp's FormValue a query
// string would override the form it came with.
func TestPOST_ReadsTheBodyNeverTheQueryString(t *testing.T) {
	r := newRig(t, memoryStore(t))
	id, answer := r.captcha()
	mobile := newMobile()
	path := "/sms_codes/" + mobile + "/?" + url.Values{"uuid": {id}, "image_code": {wrongImageCode(answer)}}.Encode()
	res := r.post(path, "application/x-www-form-urlencoded", url.Values{"uuid": {id}, "image_code": {answer}}.Encode())
	want(t, res, http.StatusOK, httpapi.CodeOK)

	// Fields only in the query string of a POST are missing.
	id, answer = r.captcha()
	path = "/sms_codes/" + newMobile() + "/?" + url.Values{"uuid": {id}, "image_code": {answer}}.Encode()
	want(t, r.post(path, "application/x-www-form-urlencoded", ""), http.StatusOK, httpapi.CodeParamError)
	want(t, r.post(path, "application/json", `{}`), http.StatusOK, httpapi.CodeParamError)

	code := r.inbox.lastCode(t, "+86"+mobile)
	want(t, r.post("/sms_codes/"+mobile+"/verify/?sms_code="+code, "application/x-www-form-urlencoded", "sms_code=000000x"),
		http.StatusOK, httpapi.CodeParamError)
}

func TestPOST_MultipartFormIsReadFromTheBody(t *testing.T) {
	r := newRig(t, memoryStore(t))
	id, answer := r.captcha()
	body := "--b\r\nContent-Disposition: form-data; name=\"uuid\"\r\n\r\n" + id +
		"\r\n--b\r\nContent-Disposition: form-data; name=\"image_code\"\r\n\r\n" + answer + "\r\n--b--\r\n"
	req := httptest.NewRequest(http.MethodPost, "/sms_codes/"+newMobile()+"/?image_code=wrong", strings.NewReader(body))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	want(t, r.do(req), http.StatusOK, httpapi.CodeOK)
}

func TestGET_ReadsTheQueryStringNeverTheBody(t *testing.T) {
	r := newRig(t, memoryStore(t))
	id, answer := r.captcha()
	req := httptest.NewRequest(http.MethodGet, "/sms_codes/"+newMobile()+"/", strings.NewReader(url.Values{"uuid": {id}, "image_code": {answer}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	want(t, r.do(req), http.StatusOK, httpapi.CodeParamError)
}

// A phone whose code is past its resend interval asks again while the
// service-wide budget is spent: the refusal must leave its live code valid.
func TestGlobalBudgetRefusal_KeepsThePhonesLiveCode(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s store, l domain.RateLimiter) {
		r := newRigWith(t, s, rigOptions{limiter: l, resend: 50 * time.Millisecond,
			limits: domain.Limits{GlobalSMS: []domain.Quota{{Max: 1, Window: time.Hour}}}})
		mobile := newMobile()
		phone, err := domain.NewPhoneNumber("+86"+mobile, "CN", domain.LineMobile)
		if err != nil {
			t.Fatal(err)
		}
		want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
		code := r.inbox.lastCode(t, "+86"+mobile)
		waitResendSlotFree(t, s, phone)
		want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeThrottled)
		want(t, r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+code+`"}`), http.StatusOK, httpapi.CodeOK)
	})
}
