package test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/lemonmall/verifyd/adapters/aliyunsms"
	"github.com/lemonmall/verifyd/adapters/webhooksms"
)

// Credentials the fake APIs accept.
const (
	fakeAliyunKeyID     = "LTAI5te2e0000000000000"
	fakeAliyunKeySecret = "e2e-aliyun-secret-000000000000"
	fakeTencentID       = "AKIDe2e00000000000000000000000"
	fakeTencentKey      = "e2e-tencent-key-0000000000000"
	fakeWebhookSecret   = "e2e-webhook-secret-0000"
)

// apiReply is how a fake API answers: accepted, a retryable outage (HTTP
// 503) or a permanent refusal of the number, each in the provider's format.
type apiReply int

const (
	apiAccept apiReply = iota
	apiUnavailable
	apiRefuseNumber
)

// apiRequest is what a fake API read from one request: the number as sent,
// the code and the lifetime parameter (Tencent) or text (webhook).
type apiRequest struct {
	To, Code, Extra string
	Reply           apiReply
}

// fakeSMSAPI speaks one provider's API (aliyun, tencent or webhook) well
// enough for verifyd's senders: it checks the request's authentication,
// records it and answers as scripted (every request gets reply).
type fakeSMSAPI struct {
	t        testing.TB
	provider string
	srv      *httptest.Server

	mu       sync.Mutex
	reply    apiReply
	requests []apiRequest
	changed  chan struct{} // closed and replaced on every request
}

func newFakeSMSAPI(t testing.TB, provider string, reply apiReply) *fakeSMSAPI {
	t.Helper()
	f := &fakeSMSAPI{t: t, provider: provider, reply: reply, changed: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// Env points a provider's variables at the fake.
func (f *fakeSMSAPI) Env() map[string]string {
	switch f.provider {
	case "aliyun":
		return map[string]string{
			"ALIBABA_CLOUD_ACCESS_KEY_ID": fakeAliyunKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": fakeAliyunKeySecret,
			"ALIYUN_SMS_SIGN_NAME": "verifyd", "ALIYUN_SMS_TEMPLATE_CODE": "SMS_100000001", "ALIYUN_SMS_ENDPOINT": f.srv.URL,
		}
	case "tencent":
		return map[string]string{
			"TENCENTCLOUD_SECRET_ID": fakeTencentID, "TENCENTCLOUD_SECRET_KEY": fakeTencentKey,
			"TENCENT_SMS_SDK_APP_ID": "1400000001", "TENCENT_SMS_SIGN_NAME": "verifyd", "TENCENT_SMS_TEMPLATE_ID": "100001",
			"TENCENT_SMS_ENDPOINT": f.srv.URL,
		}
	}
	return map[string]string{"VERIFY_SMS_WEBHOOK_URL": f.srv.URL + "/hooks/sms", "VERIFY_SMS_WEBHOOK_SECRET": fakeWebhookSecret}
}

// Requests returns the requests for to, as the provider's format writes it
// (every request when empty).
func (f *fakeSMSAPI) Requests(to string) []apiRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiRequest
	for _, r := range f.requests {
		if to == "" || r.To == to {
			out = append(out, r)
		}
	}
	return out
}

// WaitFor waits until cond holds, checking after every request and now and
// then for conditions on other state; the limit only bounds a broken test.
func (f *fakeSMSAPI) WaitFor(what string, cond func() bool) {
	f.t.Helper()
	waitForChange(f.t, "fake "+f.provider, what, f.changedSignal, cond, func() any { return f.Requests("") })
}

// changedSignal is the channel the next request closes.
func (f *fakeSMSAPI) changedSignal() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *fakeSMSAPI) serve(w http.ResponseWriter, r *http.Request) {
	var req apiRequest
	var ok bool
	switch f.provider {
	case "aliyun":
		req, ok = f.parseAliyun(r)
	case "tencent":
		req, ok = f.parseTencent(r)
	default:
		req, ok = f.parseWebhook(r)
	}
	if !ok {
		http.Error(w, "refused", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	req.Reply = f.reply
	f.requests = append(f.requests, req)
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()

	if req.Reply == apiUnavailable {
		http.Error(w, "<html>503 Service Temporarily Unavailable</html>", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch f.provider {
	case "aliyun":
		code, msg := "OK", "OK"
		if req.Reply == apiRefuseNumber {
			code, msg = "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"Code": code, "Message": msg, "BizId": "900619746936498440^0", "RequestId": "E2E-REQUEST"})
	case "tencent":
		code := "Ok"
		if req.Reply == apiRefuseNumber {
			code = "InvalidParameterValue.IncorrectPhoneNumber"
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"Response": map[string]any{
			"SendStatusSet": []map[string]any{{"SerialNo": "5000:e2e", "PhoneNumber": req.To, "Code": code, "Message": "e2e", "IsoCode": "CN"}},
			"RequestId":     "e2e-request",
		}})
	default:
		if req.Reply == apiRefuseNumber {
			w.WriteHeader(http.StatusUnprocessableEntity)
		}
		_, _ = w.Write([]byte(`{}`))
	}
}

func (f *fakeSMSAPI) parseAliyun(r *http.Request) (apiRequest, bool) {
	if r.ParseForm() != nil || r.PostForm.Get("Action") != "SendSms" || r.PostForm.Get("AccessKeyId") != fakeAliyunKeyID ||
		r.PostForm.Get("Signature") != aliyunsms.Sign(http.MethodPost, r.PostForm, fakeAliyunKeySecret) {
		f.t.Errorf("fake aliyun: bad request %v", r.PostForm)
		return apiRequest{}, false
	}
	var p struct{ Code string }
	if json.Unmarshal([]byte(r.PostForm.Get("TemplateParam")), &p) != nil {
		f.t.Errorf("fake aliyun: TemplateParam %q", r.PostForm.Get("TemplateParam"))
		return apiRequest{}, false
	}
	return apiRequest{To: r.PostForm.Get("PhoneNumbers"), Code: p.Code}, true
}

func (f *fakeSMSAPI) parseTencent(r *http.Request) (apiRequest, bool) {
	var p struct {
		PhoneNumberSet   []string
		TemplateParamSet []string
	}
	body, _ := io.ReadAll(r.Body)
	auth := r.Header.Get("Authorization")
	if r.Header.Get("X-TC-Action") != "SendSms" || !strings.HasPrefix(auth, "TC3-HMAC-SHA256 Credential="+fakeTencentID+"/") ||
		json.Unmarshal(body, &p) != nil || len(p.PhoneNumberSet) != 1 || len(p.TemplateParamSet) != 2 {
		f.t.Errorf("fake tencent: bad request %s %s", auth, body)
		return apiRequest{}, false
	}
	return apiRequest{To: p.PhoneNumberSet[0], Code: p.TemplateParamSet[0], Extra: p.TemplateParamSet[1]}, true
}

func (f *fakeSMSAPI) parseWebhook(r *http.Request) (apiRequest, bool) {
	body, _ := io.ReadAll(r.Body)
	ts := r.Header.Get(webhooksms.TimestampHeader)
	var p webhooksms.Payload
	if r.URL.Path != "/hooks/sms" || r.Header.Get(webhooksms.SignatureHeader) != webhooksms.Sign(fakeWebhookSecret, ts, body) ||
		json.Unmarshal(body, &p) != nil {
		f.t.Errorf("fake webhook: bad request %s %s", r.URL, body)
		return apiRequest{}, false
	}
	return apiRequest{To: p.To, Code: p.Code, Extra: p.Text}, true
}
