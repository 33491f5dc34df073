package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/adapters/metrics"
)

func scrape(t *testing.T, r *rig) string {
	t.Helper()
	res := r.get("/metrics")
	if res.status != http.StatusOK {
		t.Fatalf("/metrics: %d", res.status)
	}
	return string(res.body)
}

func wantMetric(t *testing.T, text, series, value string) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ` + regexp.QuoteMeta(value) + `$`)
	if !re.MatchString(text) {
		var got []string
		name := strings.SplitN(series, "{", 2)[0]
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, name) {
				got = append(got, l)
			}
		}
		t.Errorf("want %s %s, have:\n%s", series, value, strings.Join(got, "\n"))
	}
}

func TestMetrics_CountRequestsAndOutcomes(t *testing.T) {
	m := metrics.New()
	r := newRigWith(t, memoryStore(t), rigOptions{metrics: m})
	mobile := newMobile()
	want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
	want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeThrottled)
	r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"abc"}`)
	code := r.inbox.lastCode(t, "+86"+mobile)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+wrong+`"}`)
	r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+code+`"}`)
	r.get("/nope/" + mobile)

	text := scrape(t, r)
	wantMetric(t, text, `verifyd_captchas_issued_total`, "2")
	wantMetric(t, text, `verifyd_sms_requested_total`, "1")
	// The seed's route answers the refusal 200 too; the throttle counter
	// and the verification outcomes tell them apart.
	wantMetric(t, text, `verifyd_http_requests_total{method="GET",route="/sms_codes/:mobile/",status="200"}`, "2")
	wantMetric(t, text, `verifyd_http_requests_total{method="GET",route="unmatched",status="404"}`, "1")
	wantMetric(t, text, `verifyd_throttled_requests_total{route="/sms_codes/:mobile/"}`, "1")
	wantMetric(t, text, `verifyd_sms_refused_total{reason="phone_limit"}`, "1")
	wantMetric(t, text, `verifyd_sms_refused_total{reason="budget"}`, "0")
	wantMetric(t, text, `verifyd_verifications_total{outcome="invalid"}`, "1")
	wantMetric(t, text, `verifyd_verifications_total{outcome="mismatch"}`, "1")
	wantMetric(t, text, `verifyd_verifications_total{outcome="success"}`, "1")
	wantMetric(t, text, `verifyd_http_request_duration_seconds_count{route="/image_codes/:uuid/",status="200"}`, "2")
	if !strings.Contains(text, "go_goroutines ") {
		t.Error("no Go runtime metrics")
	}
	if strings.Contains(text, mobile) {
		t.Error("a phone number became a label")
	}
}

func TestMetrics_StoreOutagesAreCounted(t *testing.T) {
	m := metrics.New()
	r := newRigWith(t, failingStore{}, rigOptions{metrics: m})
	r.get("/image_codes/" + uuid.NewString() + "/")
	r.get("/readyz")
	text := scrape(t, r)
	wantMetric(t, text, `verifyd_store_errors_total{route="/image_codes/:uuid/"}`, "1")
	wantMetric(t, text, `verifyd_store_errors_total{route="/readyz"}`, "1")
}

func TestRequestID_IsEchoedOrMadeAndLoggedOncePerRequest(t *testing.T) {
	r := newRig(t, memoryStore(t))
	req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	req.Header.Set("X-Request-ID", "abc-123")
	if got := r.do(req).header.Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("echoed %q, want abc-123", got)
	}
	req = httptest.NewRequest(http.MethodGet, "/sms_codes/13800138000/?uuid=x", nil)
	req.Header.Set("X-Request-ID", "bad id\nwith newline")
	id := r.do(req).header.Get("X-Request-ID")
	if len(id) != 24 {
		t.Fatalf("generated id %q, want 24 hex characters", id)
	}
	logs := r.logBuf.String()
	if n := strings.Count(logs, "request_id="+id); n != 1 {
		t.Errorf("%d log lines carry request_id=%s, want 1:\n%s", n, id, logs)
	}
	line := logs[strings.Index(logs, "request_id="+id):]
	line = line[:strings.IndexByte(line, '\n')]
	// The seed answers the refusal 200; the line tells it by its RETCODE.
	for _, want := range []string{"route=/sms_codes/:mobile/", "status=200", "code=" + httpapi.CodeParamError, "method=GET", "duration_ms="} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %s: %s", want, line)
		}
	}
	if strings.Contains(logs, "13800138000") {
		t.Error("the phone number from the path reached the log")
	}
}

// Input refused before a use case runs is counted the same on both entry
// points: a dashboard of refusals must not depend on which API a client uses.
func TestMetrics_BothAPIsCountRefusedInputAlike(t *testing.T) {
	for name, send := range map[string]func(r *rig){
		"seed": func(r *rig) {
			id, _ := r.captcha()
			r.get("/sms_codes/12/?image_code=abcd&uuid=" + id)
			r.get("/sms_codes/" + newMobile() + "/?image_code=abcd&uuid=not-a-uuid")
			r.post("/sms_codes/"+newMobile()+"/verify/", "application/json", `{"sms_code":"12"}`)
		},
		"v1": func(r *rig) {
			id, _ := r.v1Captcha()
			r.postJSON("/api/v1/sms-codes", `{"mobile":"12","captcha_id":"`+id+`","captcha_answer":"abcd"}`)
			r.postJSON("/api/v1/sms-codes", `{"mobile":"`+newMobile()+`","captcha_id":"not-a-uuid","captcha_answer":"abcd"}`)
			r.postJSON("/api/v1/sms-codes/verify", `{"mobile":"`+newMobile()+`","code":"12"}`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			m := metrics.New()
			r := newRigWith(t, memoryStore(t), rigOptions{metrics: m})
			send(r)
			text := scrape(t, r)
			wantMetric(t, text, `verifyd_sms_refused_total{reason="invalid"}`, "2")
			wantMetric(t, text, `verifyd_verifications_total{outcome="invalid"}`, "1")
		})
	}
}
