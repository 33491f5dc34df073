package httpapi_test

import (
	"bytes"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/lemonmall/verifyd/adapters/httpapi"
)

func TestImageCode_IsANoStore240x80PNG(t *testing.T) {
	r := newRig(t, memoryStore(t))
	res := r.get("/image_codes/" + uuid.NewString() + "/")
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "image/png" || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, content type %q, cache control %q", res.status, res.header.Get("Content-Type"), res.header.Get("Cache-Control"))
	}
	img, err := png.Decode(bytes.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 240 || b.Dy() != 80 {
		t.Fatalf("image is %dx%d", b.Dx(), b.Dy())
	}
	if res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("missing X-Content-Type-Options")
	}
}

func TestImageCode_RejectsAUUIDThatIsNotOne(t *testing.T) {
	r := newRig(t, memoryStore(t))
	for _, id := range []string{"abc", "0f8fad5b-d9cb-469f-a165-70867728950", "%00", strings.Repeat("a", 300)} {
		want(t, r.get("/image_codes/"+id+"/"), http.StatusOK, httpapi.CodeParamError)
	}
}

func TestSMSFlow_HappyPathOverGETAndPOST(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		for _, variant := range []string{"get", "json", "form"} {
			t.Run(variant, func(t *testing.T) {
				mobile := newMobile()
				id, answer := r.captcha()
				var res response
				switch variant {
				case "get":
					res = r.get("/sms_codes/" + mobile + "/?uuid=" + id + "&image_code=" + strings.ToUpper(answer))
				case "json":
					res = r.post("/sms_codes/"+mobile+"/", "application/json", `{"uuid":"`+id+`","image_code":"`+answer+`"}`)
				case "form":
					res = r.post("/sms_codes/"+mobile+"/", "application/x-www-form-urlencoded", "uuid="+id+"&image_code="+answer)
				}
				want(t, res, http.StatusOK, httpapi.CodeOK)
				code := r.inbox.lastCode(t, "+86"+mobile)
				want(t, r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+code+`"}`), http.StatusOK, httpapi.CodeOK)
				want(t, r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+code+`"}`), http.StatusOK, httpapi.CodeSMSCodeError)
			})
		}
	})
}

func TestSMSFlow_NationalAndE164FormsAreOnePhone(t *testing.T) {
	r := newRig(t, memoryStore(t))
	mobile := newMobile()
	want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
	want(t, r.requestCode("%2B86"+mobile), http.StatusOK, httpapi.CodeThrottled)
	code := r.inbox.lastCode(t, "+86"+mobile)
	want(t, r.post("/sms_codes/+86"+mobile+"/verify/", "application/x-www-form-urlencoded", "sms_code="+code), http.StatusOK, httpapi.CodeOK)
}

func TestSMSFlow_ResendWithin60sIs4002WithRetryAfter(t *testing.T) {
	r := newRig(t, memoryStore(t))
	mobile := newMobile()
	want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
	res := r.requestCode(mobile)
	want(t, res, http.StatusOK, httpapi.CodeThrottled)
	if ra := res.header.Get("Retry-After"); ra != "60" && ra != "59" {
		t.Errorf("Retry-After %q, want about 60", ra)
	}
	if r.inbox.count() != 1 {
		t.Errorf("%d SMS sent, want 1", r.inbox.count())
	}
}

func TestSMSFlow_ImageCodeErrors(t *testing.T) {
	r := newRig(t, memoryStore(t))
	mobile := newMobile()
	id, answer := r.captcha()
	want(t, r.get("/sms_codes/"+mobile+"/?uuid="+id+"&image_code=wxyz"+answer), http.StatusOK, httpapi.CodeImageCodeError)
	// A wrong guess spends the challenge: the right answer no longer works.
	want(t, r.get("/sms_codes/"+mobile+"/?uuid="+id+"&image_code="+answer), http.StatusOK, httpapi.CodeImageCodeError)
	want(t, r.get("/sms_codes/"+mobile+"/?uuid="+uuid.NewString()+"&image_code=abcd"), http.StatusOK, httpapi.CodeImageCodeError)
	if r.inbox.count() != 0 {
		t.Error("an SMS was sent without a solved captcha")
	}
}

func TestSMSFlow_BadInputGets4xxWithRetcode(t *testing.T) {
	r := newRig(t, memoryStore(t))
	mobile := newMobile()
	id := uuid.NewString()
	cases := []struct {
		name   string
		res    func() response
		status int
		code   string
	}{
		{"missing uuid", func() response { return r.get("/sms_codes/" + mobile + "/?image_code=abcd") }, 200, httpapi.CodeParamError},
		{"missing image code", func() response { return r.get("/sms_codes/" + mobile + "/?uuid=" + id) }, 200, httpapi.CodeParamError},
		{"bad uuid", func() response { return r.get("/sms_codes/" + mobile + "/?uuid=x&image_code=abcd") }, 200, httpapi.CodeParamError},
		{"long image code", func() response {
			return r.get("/sms_codes/" + mobile + "/?uuid=" + id + "&image_code=" + strings.Repeat("a", 100))
		}, 200, httpapi.CodeParamError},
		{"bad mobile", func() response { return r.get("/sms_codes/12345/?uuid=" + id + "&image_code=abcd") }, 200, httpapi.CodeMobileError},
		{"letters as mobile", func() response { return r.get("/sms_codes/abcdefghijk/?uuid=" + id + "&image_code=abcd") }, 200, httpapi.CodeMobileError},
		{"malformed json", func() response { return r.post("/sms_codes/"+mobile+"/", "application/json", `{"uuid":`) }, 200, httpapi.CodeParamError},
		{"json array", func() response { return r.post("/sms_codes/"+mobile+"/", "application/json", `[1,2]`) }, 200, httpapi.CodeParamError},
		{"number for string", func() response {
			return r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":123456}`)
		}, 200, httpapi.CodeParamError},
		{"xml body", func() response { return r.post("/sms_codes/"+mobile+"/", "application/xml", `<a/>`) }, 415, httpapi.CodeParamError},
		{"missing sms code", func() response { return r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{}`) }, 200, httpapi.CodeParamError},
		{"short sms code", func() response {
			return r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"123"}`)
		}, 200, httpapi.CodeParamError},
		{"verify by GET", func() response { return r.get("/sms_codes/" + mobile + "/verify/") }, 404, httpapi.CodeParamError},
		{"unknown route", func() response { return r.get("/nope") }, 404, httpapi.CodeParamError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { want(t, c.res(), c.status, c.code) })
	}
}

func TestVerify_FiveWrongTriesBurnTheCode(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		mobile := newMobile()
		want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
		code := r.inbox.lastCode(t, "+86"+mobile)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for range 5 {
			want(t, r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+wrong+`"}`), http.StatusOK, httpapi.CodeSMSCodeError)
		}
		want(t, r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+code+`"}`), http.StatusOK, httpapi.CodeSMSCodeError)
	})
}
