package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lemonmall/verifyd/adapters/captcha"
	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/adapters/metrics"
	"github.com/lemonmall/verifyd/adapters/system"
	"github.com/lemonmall/verifyd/application"
	"github.com/lemonmall/verifyd/domain"
)

// addAPIv1 gives a test server the versioned API's use cases, on the same
// store and limiter as the seed's.
func addAPIv1(t testing.TB, deps *httpapi.Deps, s domain.ChallengeStore, limiter domain.RateLimiter, policy domain.Policy) {
	t.Helper()
	var err error
	if deps.IssueCaptcha, err = application.NewIssueCaptcha(deps.IssueImageChallenge, system.Random{}, policy); err != nil {
		t.Fatal(err)
	}
	if deps.RefreshImageChallenge, err = application.NewRefreshImageChallenge(s, captcha.NewRenderer(), system.Random{}, limiter, deps.Events, policy); err != nil {
		t.Fatal(err)
	}
	if deps.IssueAudioChallenge, err = application.NewIssueAudioChallenge(s, captcha.NewSpeaker(), system.Random{}, limiter, deps.Events, policy); err != nil {
		t.Fatal(err)
	}
}

type v1Captcha struct {
	Code      string `json:"code"`
	ID        string `json:"id"`
	Image     string `json:"image"`
	ExpiresIn int    `json:"expires_in"`
}

func (r *rig) postJSON(path, body string, headers ...string) response {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return r.do(req)
}

// v1Captcha asks the versioned API for a captcha and returns its id and the
// answer the image shows.
func (r *rig) v1Captcha() (string, string) {
	r.t.Helper()
	res := r.postJSON("/api/v1/captchas", "")
	if res.status != http.StatusCreated {
		r.t.Fatalf("POST /api/v1/captchas: %d %s", res.status, res.body)
	}
	var c v1Captcha
	if err := json.Unmarshal(res.body, &c); err != nil {
		r.t.Fatal(err)
	}
	return c.ID, r.spy.answer(c.ID)
}

// wantV1RetryAfter checks a refusal by a limit on /api/v1/: a real 429.
func wantV1RetryAfter(t *testing.T, res response, atMost time.Duration) {
	t.Helper()
	want(t, res, http.StatusTooManyRequests, httpapi.CodeThrottled)
	s, err := strconv.Atoi(res.header.Get("Retry-After"))
	if err != nil || s < 1 || time.Duration(s)*time.Second > atMost+time.Second {
		t.Fatalf("Retry-After %q, want 1..%v seconds", res.header.Get("Retry-After"), atMost)
	}
}

func smsBody(mobile, id, answer string) string {
	return `{"mobile":"` + mobile + `","captcha_id":"` + id + `","captcha_answer":"` + answer + `"}`
}

func TestV1Captcha_IsA201WithAServerIDAndAPNGDataURI(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		seen := map[string]bool{}
		for range 5 {
			res := r.postJSON("/api/v1/captchas", "")
			want(t, res, http.StatusCreated, httpapi.CodeOK)
			var c v1Captcha
			if err := json.Unmarshal(res.body, &c); err != nil {
				t.Fatal(err)
			}
			id, err := uuid.Parse(c.ID)
			if err != nil || id.Version() != 4 || seen[c.ID] {
				t.Fatalf("id %q: %v, version %d, seen before %v", c.ID, err, id.Version(), seen[c.ID])
			}
			seen[c.ID] = true
			data, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(c.Image, "data:image/png;base64,"))
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil || img.Bounds().Dx() != 240 || c.ExpiresIn != 300 {
				t.Fatalf("image %v (%v), expires_in %d", err, img.Bounds(), c.ExpiresIn)
			}
			if r.spy.answer(c.ID) == "" || res.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("no answer stored under %s, or a cacheable answer", c.ID)
			}
		}
	})
}

func TestV1Flow_CaptchaSMSVerify(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		mobile := newMobile()
		id, answer := r.v1Captcha()
		res := r.postJSON("/api/v1/sms-codes", smsBody(mobile, id, strings.ToUpper(answer)))
		want(t, res, http.StatusAccepted, httpapi.CodeOK)
		var terms struct{ ResendAfter, ExpiresIn int }
		if err := json.Unmarshal(bytes.ReplaceAll(res.body, []byte("_"), nil), &terms); err != nil || terms.ResendAfter != 60 || terms.ExpiresIn != 300 {
			t.Fatalf("terms %s: %v", res.body, err)
		}
		code := r.inbox.lastCode(t, "+86"+mobile)
		want(t, r.postJSON("/api/v1/sms-codes/verify", `{"mobile":"`+mobile+`","code":"`+code+`"}`), http.StatusOK, httpapi.CodeOK)
		want(t, r.postJSON("/api/v1/sms-codes/verify", `{"mobile":"`+mobile+`","code":"`+code+`"}`), http.StatusBadRequest, httpapi.CodeSMSCodeError)
	})
}

func TestV1Image_ReplacesTheAnswerOfALiveChallengeOnly(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		id, first := r.v1Captcha()
		res := r.get("/api/v1/captchas/" + id + "/image")
		if res.status != http.StatusOK || res.header.Get("Content-Type") != "image/png" || res.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("refresh: %d %q %q", res.status, res.header.Get("Content-Type"), res.header.Get("Cache-Control"))
		}
		if _, err := png.Decode(bytes.NewReader(res.body)); err != nil {
			t.Fatal(err)
		}
		// Four characters can repeat (1 in 923521): refresh until they differ.
		for i := 0; r.spy.answer(id) == first; i++ {
			if i == 3 {
				t.Fatalf("four refreshes kept the answer %q", first)
			}
			r.get("/api/v1/captchas/" + id + "/image")
		}
		mobile := newMobile()
		want(t, r.postJSON("/api/v1/sms-codes", smsBody(mobile, id, first)), http.StatusBadRequest, httpapi.CodeImageCodeError)
		// The wrong answer spent the challenge: the id is never reused.
		want(t, r.get("/api/v1/captchas/"+id+"/image"), http.StatusNotFound, httpapi.CodeImageCodeError)
		id, _ = r.v1Captcha()
		r.get("/api/v1/captchas/" + id + "/image")
		want(t, r.postJSON("/api/v1/sms-codes", smsBody(mobile, id, r.spy.answer(id))), http.StatusAccepted, httpapi.CodeOK)
		want(t, r.get("/api/v1/captchas/"+id+"/audio"), http.StatusNotFound, httpapi.CodeImageCodeError)
	})
}

func TestV1Image_UnknownOrMalformedIDs(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		for _, route := range []string{"image", "audio"} {
			want(t, r.get("/api/v1/captchas/"+uuid.NewString()+"/"+route), http.StatusNotFound, httpapi.CodeImageCodeError)
			res := r.get("/api/v1/captchas/not-a-uuid/" + route)
			want(t, res, http.StatusBadRequest, httpapi.CodeParamError)
			if !strings.Contains(res.answer.ErrMsg, "id") {
				t.Errorf("errmsg %q does not name the id", res.answer.ErrMsg)
			}
		}
		// A seed-style id the client made up is not a challenge either.
		id := uuid.NewString()
		r.get("/image_codes/" + id + "/")
		if res := r.get("/api/v1/captchas/" + id + "/image"); res.status != http.StatusOK {
			t.Errorf("a live seed challenge cannot be refreshed: %d", res.status)
		}
	})
}

func TestV1Audio_TheSpokenDigitsVerifyAndTheImageAnswerNoLonger(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		for _, query := range []string{"?lang=en", "?lang=zh", ""} {
			id, imageAnswer := r.v1Captcha()
			res := r.get("/api/v1/captchas/" + id + "/audio" + query)
			if res.status != http.StatusOK || res.header.Get("Content-Type") != "audio/wav" || !bytes.HasPrefix(res.body, []byte("RIFF")) {
				t.Fatalf("%q: %d %q %.12q", query, res.status, res.header.Get("Content-Type"), res.body)
			}
			spoken := r.spy.answer(id)
			if len(spoken) != domain.AudioCaptchaLength || strings.Trim(spoken, domain.Digits) != "" {
				t.Fatalf("audio answer %q, want %d digits", spoken, domain.AudioCaptchaLength)
			}
			// The image answer is gone: this spends the challenge.
			twin := newMobile()
			want(t, r.postJSON("/api/v1/sms-codes", smsBody(twin, id, imageAnswer)), http.StatusBadRequest, httpapi.CodeImageCodeError)

			id, _ = r.v1Captcha()
			r.get("/api/v1/captchas/" + id + "/audio" + query)
			mobile := newMobile()
			want(t, r.postJSON("/api/v1/sms-codes", smsBody(mobile, id, r.spy.answer(id))), http.StatusAccepted, httpapi.CodeOK)
			want(t, r.postJSON("/api/v1/sms-codes/verify", `{"mobile":"`+mobile+`","code":"`+r.inbox.lastCode(t, "+86"+mobile)+`"}`), http.StatusOK, httpapi.CodeOK)
		}
		id, _ := r.v1Captcha()
		for _, query := range []string{"?lang=fr", "?lang="} {
			want(t, r.get("/api/v1/captchas/"+id+"/audio"+query), http.StatusBadRequest, httpapi.CodeParamError)
		}
	})
}

func TestV1SMSCodes_Refusals(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		mobile := newMobile()
		id, answer := r.v1Captcha()
		for body, code := range map[string]string{
			`{"captcha_id":"` + id + `","captcha_answer":"abcd"}`:            httpapi.CodeParamError,
			`{"mobile":"` + mobile + `","captcha_answer":"abcd"}`:            httpapi.CodeParamError,
			`{"mobile":"` + mobile + `","captcha_id":"` + id + `"}`:          httpapi.CodeParamError,
			`{"mobile":1,"captcha_id":"` + id + `","captcha_answer":"abcd"}`: httpapi.CodeParamError,
			`[1,2]`:                      httpapi.CodeParamError,
			smsBody("12345", id, answer): httpapi.CodeMobileError,
			smsBody(mobile, uuid.NewString(), "abcd"): httpapi.CodeImageCodeError,
		} {
			want(t, r.postJSON("/api/v1/sms-codes", body), http.StatusBadRequest, code)
		}
		want(t, r.post("/api/v1/sms-codes", "application/x-www-form-urlencoded", "mobile="+mobile+"&captcha_id="+id+"&captcha_answer="+answer),
			http.StatusUnsupportedMediaType, httpapi.CodeParamError)
		want(t, r.postJSON("/api/v1/sms-codes", smsBody(mobile, id, answer)), http.StatusAccepted, httpapi.CodeOK)
		id, answer = r.v1Captcha()
		res := r.postJSON("/api/v1/sms-codes", smsBody(mobile, id, answer))
		wantV1RetryAfter(t, res, time.Minute)
	})
}

func TestV1Verify_Refusals(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		mobile := newMobile()
		want(t, r.postJSON("/api/v1/sms-codes/verify", `{"mobile":"`+mobile+`","code":"123456"}`), http.StatusBadRequest, httpapi.CodeSMSCodeError)
		want(t, r.postJSON("/api/v1/sms-codes/verify", `{"mobile":"`+mobile+`","code":"12345"}`), http.StatusBadRequest, httpapi.CodeParamError)
		want(t, r.postJSON("/api/v1/sms-codes/verify", `{"mobile":"`+mobile+`"}`), http.StatusBadRequest, httpapi.CodeParamError)
		want(t, r.postJSON("/api/v1/sms-codes/verify", `{"mobile":"12","code":"123456"}`), http.StatusBadRequest, httpapi.CodeMobileError)
		want(t, r.post("/api/v1/sms-codes/verify", "text/plain", `{"mobile":"`+mobile+`","code":"123456"}`), http.StatusUnsupportedMediaType, httpapi.CodeParamError)
	})
}

func TestV1_LimitsAnswer429WithRetryAfter(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s store, l domain.RateLimiter) {
		r := newRigWith(t, s, rigOptions{limiter: l, cfg: trustTestConn, limits: domain.Limits{
			IPCaptcha: []domain.Quota{{Max: 2, Window: time.Minute}},
			IPVerify:  []domain.Quota{{Max: 1, Window: time.Minute}},
		}})
		client := testClient(t)
		from := func(req *http.Request) response { return r.do(fromClient(req, client)) }
		newCaptcha := func() *http.Request { return httptest.NewRequest(http.MethodPost, "/api/v1/captchas", nil) }
		res := from(newCaptcha())
		want(t, res, http.StatusCreated, httpapi.CodeOK)
		var c v1Captcha
		_ = json.Unmarshal(res.body, &c)
		want(t, from(newCaptcha()), http.StatusCreated, httpapi.CodeOK)
		wantV1RetryAfter(t, from(newCaptcha()), time.Minute)
		wantV1RetryAfter(t, from(httptest.NewRequest(http.MethodGet, "/api/v1/captchas/"+c.ID+"/image", nil)), time.Minute)
		wantV1RetryAfter(t, from(httptest.NewRequest(http.MethodGet, "/api/v1/captchas/"+c.ID+"/audio", nil)), time.Minute)

		verify := func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/sms-codes/verify", strings.NewReader(`{"mobile":"`+newMobile()+`","code":"123456"}`))
			req.Header.Set("Content-Type", "application/json")
			return req
		}
		want(t, from(verify()), http.StatusBadRequest, httpapi.CodeSMSCodeError)
		wantV1RetryAfter(t, from(verify()), time.Minute)
	})
}

func TestV1_StoreOutageIs503(t *testing.T) {
	r := newRig(t, failingStore{})
	id := uuid.NewString()
	want(t, r.postJSON("/api/v1/captchas", ""), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
	want(t, r.get("/api/v1/captchas/"+id+"/image"), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
	want(t, r.get("/api/v1/captchas/"+id+"/audio"), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
	want(t, r.postJSON("/api/v1/sms-codes", smsBody(newMobile(), id, "abcd")), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
	want(t, r.postJSON("/api/v1/sms-codes/verify", `{"mobile":"`+newMobile()+`","code":"123456"}`), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
}

func TestV1_MetricsCountCaptchasCodesAndVerifications(t *testing.T) {
	m := metrics.New()
	r := newRigWith(t, memoryStore(t), rigOptions{metrics: m})
	mobile := newMobile()
	id, _ := r.v1Captcha()
	r.get("/api/v1/captchas/" + id + "/image")
	r.get("/api/v1/captchas/" + id + "/audio")
	want(t, r.postJSON("/api/v1/sms-codes", smsBody(mobile, id, r.spy.answer(id))), http.StatusAccepted, httpapi.CodeOK)
	want(t, r.postJSON("/api/v1/sms-codes", smsBody(newMobile(), id, "123456")), http.StatusBadRequest, httpapi.CodeImageCodeError)
	want(t, r.postJSON("/api/v1/sms-codes/verify", `{"mobile":"`+mobile+`","code":"`+r.inbox.lastCode(t, "+86"+mobile)+`"}`), http.StatusOK, httpapi.CodeOK)

	text := scrape(t, r)
	wantMetric(t, text, `verifyd_captchas_issued_total`, "3")
	wantMetric(t, text, `verifyd_sms_requested_total`, "1")
	wantMetric(t, text, `verifyd_verifications_total{outcome="success"}`, "1")
	wantMetric(t, text, `verifyd_http_requests_total{method="POST",route="/api/v1/sms-codes",status="400"}`, "1")
	wantMetric(t, text, `verifyd_http_requests_total{method="POST",route="/api/v1/captchas",status="201"}`, "1")
}
