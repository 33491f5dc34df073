package test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// providerSetup is a deployment on Redis whose SMS go to the given fake
// provider APIs, with the in-process queue or through smsworker.
func providerSetup(t *testing.T, queue, providers string, fakes ...*fakeSMSAPI) (*queueSetup, *process, *process) {
	t.Helper()
	s := newQueueSetup(t)
	s.env["VERIFY_SMS_QUEUE"] = queue
	s.env["VERIFY_SMS_PROVIDER"] = providers
	for _, f := range fakes {
		for k, v := range f.Env() {
			s.env[k] = v
		}
	}
	v := s.verifyd()
	var w *process
	if queue == "redis" {
		w = s.worker()
	}
	return s, v, w
}

// wireTo is how each provider's request writes a CN mobile: Alibaba Cloud
// takes the E.164 digits without "+", the others E.164 as is.
func wireTo(provider, mobile string) string {
	if provider == "aliyun" {
		return "86" + mobile
	}
	return "+86" + mobile
}

var sixDigitCode = regexp.MustCompile(`^[0-9]{6}$`)

// Each provider, with either queue: a code requested over HTTP reaches the
// provider's API with the number and the 6-digit code, and verifies.
func TestProviders_CodeArrivesAtEachProviderAndVerifies(t *testing.T) {
	for _, provider := range []string{"aliyun", "tencent", "webhook"} {
		for _, queue := range []string{"memory", "redis"} {
			t.Run(provider+"/"+queue, func(t *testing.T) {
				api := newFakeSMSAPI(t, provider, apiAccept)
				s, v, w := providerSetup(t, queue, provider, api)
				mobile := randomMobile(t)
				to := wireTo(provider, mobile)

				e164 := s.requestSMS(t, v, mobile)
				api.WaitFor("the message arrives", func() bool { return len(api.Requests(to)) == 1 })
				got := api.Requests(to)[0]
				if !sixDigitCode.MatchString(got.Code) {
					t.Fatalf("%s got code %q, want 6 digits", provider, got.Code)
				}
				switch provider {
				case "tencent":
					if got.Extra != "5" {
						t.Errorf("lifetime parameter %q, want 5 (minutes)", got.Extra)
					}
				case "webhook":
					if !strings.Contains(got.Extra, got.Code) || !strings.Contains(got.Extra, "5 minutes") {
						t.Errorf("webhook text %q lacks the code or the lifetime", got.Extra)
					}
				}
				call(t, "POST", v.base+"/sms_codes/"+mobile+"/verify/", url.Values{"sms_code": {got.Code}}).want(t, 200, "0")

				procs := []*process{v}
				if w != nil {
					procs = append(procs, w)
					s.wantDrained()
					w.waitLog(regexp.MustCompile(`"outcome":"delivered","provider":"` + provider + `"`))
				} else {
					v.waitLog(regexp.MustCompile(`"outcome":"delivered","provider":"` + provider + `"`))
				}
				wantNoSecrets(t, procs, []string{got.Code}, []string{e164})
			})
		}
	}
}

// The first provider of the list is down (HTTP 503): the second delivers the
// code, exactly once, without waiting for a retry, and both are named.
func TestProviders_FailoverToTheNextProviderWhenTheFirstIsDown(t *testing.T) {
	for _, queue := range []string{"memory", "redis"} {
		t.Run(queue, func(t *testing.T) {
			aliyun := newFakeSMSAPI(t, "aliyun", apiUnavailable)
			tencent := newFakeSMSAPI(t, "tencent", apiAccept)
			s, v, w := providerSetup(t, queue, "aliyun,tencent", aliyun, tencent)
			mobile := randomMobile(t)

			s.requestSMS(t, v, mobile)
			tencent.WaitFor("tencent delivers", func() bool { return len(tencent.Requests("+86"+mobile)) == 1 })
			sender := v
			if w != nil {
				sender = w
				s.wantDrained()
			}
			sender.waitLog(regexp.MustCompile(`"attempt":1,"outcome":"delivered","provider":"tencent"`))
			if n := len(aliyun.Requests("86" + mobile)); n != 1 {
				t.Errorf("aliyun got %d requests, want 1", n)
			}
			if n := len(tencent.Requests("+86" + mobile)); n != 1 {
				t.Errorf("tencent got %d requests, want exactly 1", n)
			}
			out := sender.output()
			if !strings.Contains(out, `"provider":"aliyun","next":"tencent"`) || strings.Contains(out, `"outcome":"retrying"`) {
				t.Errorf("logs: want one failover from aliyun to tencent and no retry:\n%s", out)
			}
			code := tencent.Requests("+86" + mobile)[0].Code
			call(t, "POST", v.base+"/sms_codes/"+mobile+"/verify/", url.Values{"sms_code": {code}}).want(t, 200, "0")
			for series, want := range map[string]string{
				`verifyd_sms_provider_outcomes_total{outcome="failed_over",provider="aliyun"}`: "1",
				`verifyd_sms_provider_outcomes_total{outcome="delivered",provider="tencent"}`:  "1",
				`verifyd_sms_sent_total`: "1",
			} {
				if got := metric(t, sender, series); got != want {
					t.Errorf("%s = %s, want %s", series, got, want)
				}
			}
		})
	}
}

// A permanent refusal of the number by the first provider is final: the
// message is dead-lettered and the second provider never asked.
func TestProviders_PermanentRefusalIsDeadLetteredWithoutTryingTheNext(t *testing.T) {
	aliyun := newFakeSMSAPI(t, "aliyun", apiRefuseNumber)
	tencent := newFakeSMSAPI(t, "tencent", apiAccept)
	s, v, w := providerSetup(t, "redis", "aliyun,tencent", aliyun, tencent)
	mobile := randomMobile(t)

	e164 := s.requestSMS(t, v, mobile)
	s.wantDrained()
	dl := s.deadLetters()
	if len(dl) != 1 || !strings.Contains(dl[0].FieldValues["reason"], "isv.MOBILE_NUMBER_ILLEGAL") {
		t.Fatalf("dead letters %+v, want one naming aliyun's refusal", dl)
	}
	if n := len(aliyun.Requests("86" + mobile)); n != 1 {
		t.Errorf("aliyun got %d requests, want 1", n)
	}
	if n := len(tencent.Requests("")); n != 0 {
		t.Errorf("tencent got %d requests, want none", n)
	}
	w.waitLog(regexp.MustCompile(`"outcome":"failed","provider":"aliyun"`))
	if got := metric(t, w, `verifyd_sms_provider_outcomes_total{outcome="failed",provider="aliyun"}`); got != "1" {
		t.Errorf("failed for aliyun = %s, want 1", got)
	}
	wantNoSecrets(t, []*process{v, w}, nil, []string{e164})
}
