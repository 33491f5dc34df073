package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/domain"
)

// inLanguage sets the request's Accept-Language; "" sends none.
func inLanguage(req *http.Request, acceptLanguage string) *http.Request {
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	return req
}

// texts are one answer's errmsg in English and in Chinese.
type texts struct{ en, zh string }

// seedCase provokes one outcome on one of the seed's routes.
type seedCase struct {
	name   string
	status int // 200 for every business outcome; a store outage keeps 503
	code   string
	texts  texts
	// do sends the request with Accept-Language al on a fresh rig.
	do func(t *testing.T, al string) response
}

func seedCases() []seedCase {
	get := func(r *rig, path, al string) response {
		return r.do(inLanguage(httptest.NewRequest(http.MethodGet, path, nil), al))
	}
	postJSON := func(r *rig, path, body, al string) response {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return r.do(inLanguage(req, al))
	}
	smsPath := func(r *rig, mobile string) string {
		id, answer := r.captcha()
		return "/sms_codes/" + mobile + "/?" + url.Values{"uuid": {id}, "image_code": {answer}}.Encode()
	}
	unavailable := texts{"Service temporarily unavailable, please try again later", "服务暂时不可用，请稍后再试"}
	return []seedCase{
		{"image: malformed uuid", 200, httpapi.CodeParamError, texts{"Incorrectly entered parameter: uuid", "参数有误：uuid"},
			func(t *testing.T, al string) response { return get(newRig(t, memoryStore(t)), "/image_codes/abc/", al) }},
		{"image: store outage", 503, httpapi.CodeServiceUnavailable, unavailable,
			func(t *testing.T, al string) response {
				return get(newRig(t, failingStore{}), "/image_codes/"+uuid.NewString()+"/", al)
			}},
		{"sms: sent", 200, httpapi.CodeOK, texts{"Send SMS successfully", "发送短信成功"},
			func(t *testing.T, al string) response {
				r := newRig(t, memoryStore(t))
				return get(r, smsPath(r, newMobile()), al)
			}},
		{"sms: wrong image code", 200, httpapi.CodeImageCodeError, texts{"Incorrectly entered graphical verification code", "输入图形验证码有误"},
			func(t *testing.T, al string) response {
				r := newRig(t, memoryStore(t))
				id, answer := r.captcha()
				return get(r, "/sms_codes/"+newMobile()+"/?uuid="+id+"&image_code="+wrongImageCode(answer), al)
			}},
		{"sms: expired or used image code", 200, httpapi.CodeImageCodeError, texts{"Graphical Code no longer works", "图形验证码失效"},
			func(t *testing.T, al string) response {
				return get(newRig(t, memoryStore(t)), "/sms_codes/"+newMobile()+"/?uuid="+uuid.NewString()+"&image_code=abcd", al)
			}},
		{"sms: resend within 60 s", 200, httpapi.CodeThrottled, texts{"Send messages too frequently", "发送短信过于频繁"},
			func(t *testing.T, al string) response {
				r := newRig(t, memoryStore(t))
				mobile := newMobile()
				want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
				res := get(r, smsPath(r, mobile), al)
				if res.header.Get("Retry-After") == "" {
					t.Error("4002 without Retry-After")
				}
				return res
			}},
		{"sms: missing uuid", 200, httpapi.CodeParamError, texts{"Missing mandatory parameters", "缺少必传参数"},
			func(t *testing.T, al string) response {
				return get(newRig(t, memoryStore(t)), "/sms_codes/"+newMobile()+"/?image_code=abcd", al)
			}},
		{"sms: refused number", 200, httpapi.CodeMobileError, texts{"Please enter a correct mobile number", "请输入正确的手机号码"},
			func(t *testing.T, al string) response {
				r := newRigWith(t, memoryStore(t), rigOptions{limits: domain.Limits{SMSRegions: []string{"CN"}}})
				return get(r, smsPath(r, "%2B447400123456"), al)
			}},
		{"sms: store outage", 503, httpapi.CodeServiceUnavailable, unavailable,
			func(t *testing.T, al string) response {
				return get(newRig(t, failingStore{}), "/sms_codes/"+newMobile()+"/?uuid="+uuid.NewString()+"&image_code=abcd", al)
			}},
		{"verify: right code", 200, httpapi.CodeOK, texts{"Verify SMS code successfully", "短信验证码验证成功"},
			func(t *testing.T, al string) response {
				r := newRig(t, memoryStore(t))
				mobile := newMobile()
				want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
				return postJSON(r, "/sms_codes/"+mobile+"/verify/", `{"sms_code":"`+r.inbox.lastCode(t, "+86"+mobile)+`"}`, al)
			}},
		{"verify: wrong code", 200, httpapi.CodeSMSCodeError, texts{"Incorrectly entered SMS verification code", "输入短信验证码有误"},
			func(t *testing.T, al string) response {
				return postJSON(newRig(t, memoryStore(t)), "/sms_codes/"+newMobile()+"/verify/", `{"sms_code":"123456"}`, al)
			}},
		{"verify: missing code", 200, httpapi.CodeParamError, texts{"Missing mandatory parameters", "缺少必传参数"},
			func(t *testing.T, al string) response {
				return postJSON(newRig(t, memoryStore(t)), "/sms_codes/"+newMobile()+"/verify/", `{}`, al)
			}},
		{"verify: malformed code", 200, httpapi.CodeParamError, texts{"Incorrectly entered parameter: sms_code", "参数有误：sms_code"},
			func(t *testing.T, al string) response {
				return postJSON(newRig(t, memoryStore(t)), "/sms_codes/"+newMobile()+"/verify/", `{"sms_code":"12"}`, al)
			}},
		{"verify: invalid number", 200, httpapi.CodeMobileError, texts{"Please enter a correct mobile number", "请输入正确的手机号码"},
			func(t *testing.T, al string) response {
				return postJSON(newRig(t, memoryStore(t)), "/sms_codes/12345/verify/", `{"sms_code":"123456"}`, al)
			}},
		{"verify: client over its quota", 200, httpapi.CodeThrottled, texts{"Too many requests, please try again later", "请求过于频繁，请稍后再试"},
			func(t *testing.T, al string) response {
				r := newRigWith(t, memoryStore(t), rigOptions{limits: domain.Limits{IPVerify: []domain.Quota{{Max: 1, Window: time.Hour}}}})
				postJSON(r, "/sms_codes/"+newMobile()+"/verify/", `{"sms_code":"123456"}`, "")
				return postJSON(r, "/sms_codes/"+newMobile()+"/verify/", `{"sms_code":"123456"}`, al)
			}},
		{"verify: store outage", 503, httpapi.CodeServiceUnavailable, unavailable,
			func(t *testing.T, al string) response {
				return postJSON(newRig(t, failingStore{}), "/sms_codes/"+newMobile()+"/verify/", `{"sms_code":"123456"}`, al)
			}},
	}
}

func wrongImageCode(answer string) string {
	if strings.EqualFold(answer, "wxyz") {
		return "zyxw"
	}
	return "wxyz"
}

func TestSeedRoutes_AnswerEveryOutcomeWith200AndTheSeedsTextInTheRequestedLanguage(t *testing.T) {
	languages := []struct {
		acceptLanguage string
		zh             bool
	}{
		{"", false},
		{"en-US,en;q=0.9", false},
		{"zh-CN", true},
		{"zh-Hans", true},
		{"zh-CN,zh;q=0.9,en;q=0.8", true},
		{"fr-FR", false}, // not spoken: the default
	}
	for _, c := range seedCases() {
		t.Run(c.name, func(t *testing.T) {
			for _, l := range languages {
				res := c.do(t, l.acceptLanguage)
				wantText := c.texts.en
				if l.zh {
					wantText = c.texts.zh
				}
				if res.status != c.status || res.answer.Code != c.code || res.answer.ErrMsg != wantText {
					t.Errorf("Accept-Language %q: got %d %q %q, want %d %q %q",
						l.acceptLanguage, res.status, res.answer.Code, res.answer.ErrMsg, c.status, c.code, wantText)
				}
				if !strings.Contains(res.header.Get("Vary"), "Accept-Language") {
					t.Errorf("Accept-Language %q: no Vary: Accept-Language", l.acceptLanguage)
				}
			}
		})
	}
}

func TestSeedRoutes_ConfiguredLanguageIsTheDefault(t *testing.T) {
	r := newRigWith(t, memoryStore(t), rigOptions{cfg: httpapi.Config{Language: domain.Chinese}})
	res := r.get("/sms_codes/" + newMobile() + "/?uuid=" + uuid.NewString() + "&image_code=abcd")
	if res.answer.ErrMsg != "图形验证码失效" {
		t.Errorf("no Accept-Language: %q, want the configured Chinese", res.answer.ErrMsg)
	}
	res = r.do(inLanguage(httptest.NewRequest(http.MethodGet, "/sms_codes/"+newMobile()+"/?uuid="+uuid.NewString()+"&image_code=abcd", nil), "en-GB"))
	if res.answer.ErrMsg != "Graphical Code no longer works" {
		t.Errorf("Accept-Language en-GB: %q, want English", res.answer.ErrMsg)
	}
}

func TestSeedRoutes_RefusedCaptchaIsAPictureSayingSo(t *testing.T) {
	r := newRigWith(t, memoryStore(t), rigOptions{limits: domain.Limits{IPCaptcha: []domain.Quota{{Max: 1, Window: time.Minute}}}})
	r.captcha()
	for al, text := range map[string]string{"": "Too many requests,", "zh-CN": "请求过于频繁，"} {
		res := r.do(inLanguage(httptest.NewRequest(http.MethodGet, "/image_codes/"+uuid.NewString()+"/", nil), al))
		if res.status != http.StatusOK || res.header.Get("Content-Type") != "image/svg+xml" || res.header.Get("Retry-After") == "" {
			t.Fatalf("Accept-Language %q: %d %q Retry-After %q, want 200 image/svg+xml with Retry-After",
				al, res.status, res.header.Get("Content-Type"), res.header.Get("Retry-After"))
		}
		if !strings.Contains(string(res.body), text) || !strings.Contains(string(res.body), `width="240" height="80"`) {
			t.Errorf("Accept-Language %q: picture %s does not say %q at the captcha's size", al, res.body, text)
		}
	}
}

func TestSMSRequest_CarriesTheRequestsLanguageToTheMessage(t *testing.T) {
	r := newRig(t, memoryStore(t))
	for al, lang := range map[string]domain.Language{"zh-CN": domain.Chinese, "en": domain.English, "": domain.English} {
		id, answer := r.captcha()
		req := httptest.NewRequest(http.MethodGet, "/sms_codes/"+newMobile()+"/?uuid="+id+"&image_code="+answer, nil)
		want(t, r.do(inLanguage(req, al)), http.StatusOK, httpapi.CodeOK)
		r.inbox.mu.Lock()
		got := r.inbox.msgs[len(r.inbox.msgs)-1].Lang
		r.inbox.mu.Unlock()
		if got != lang {
			t.Errorf("Accept-Language %q: message in %q, want %q", al, got, lang)
		}
	}
}

func TestMessages_EveryTextExistsInEveryLanguage(t *testing.T) {
	m, err := httpapi.NewMessages("")
	if err != nil {
		t.Fatal(err)
	}
	keys := []httpapi.MessageKey{httpapi.MsgOK, httpapi.MsgSMSSent, httpapi.MsgSMSVerified, httpapi.MsgImageCodeWrong,
		httpapi.MsgImageCodeExpired, httpapi.MsgSMSTooFrequent, httpapi.MsgTooManyRequests, httpapi.MsgMissingParams,
		httpapi.MsgInvalidParam, httpapi.MsgInvalidMobile, httpapi.MsgSMSCodeWrong, httpapi.MsgServiceUnavailable,
		httpapi.MsgInternalError, httpapi.MsgNotFound, httpapi.MsgMethodNotAllowed, httpapi.MsgBodyTooLarge,
		httpapi.MsgRequestTooLarge, httpapi.MsgUnsupportedBody, httpapi.MsgRequestTimeout, httpapi.MsgBadRequest}
	for _, k := range keys {
		en, zh := m.Text(k, domain.English), m.Text(k, domain.Chinese)
		if en == string(k) || zh == string(k) || en == zh && k != httpapi.MsgOK {
			t.Errorf("%s: en %q, zh %q: a language is missing", k, en, zh)
		}
	}
	if _, err := httpapi.NewMessages("fr"); err == nil {
		t.Error("NewMessages accepted a language verifyd does not speak")
	}
}
