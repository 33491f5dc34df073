package httpapi_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/lemonmall/verifyd/adapters/httpapi"
)

// race runs fn n times at once and counts the answers by "status code",
// such as "200 4001"; a picture counts as "200 image".
func race(n int, fn func(i int) response) map[string]int {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		start = make(chan struct{})
		got   = map[string]int{}
	)
	for i := range n {
		wg.Go(func() {
			<-start
			res := fn(i)
			mu.Lock()
			got[res.key()]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return got
}

func TestRace_OneCaptchaAnswerBuysOneSMS(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		id, answer := r.captcha()
		got := race(32, func(int) response {
			// Different phones, so only the captcha can stop them.
			return r.get("/sms_codes/" + newMobile() + "/?uuid=" + id + "&image_code=" + answer)
		})
		if got["200 0"] != 1 || got["200 4001"] != 31 || r.inbox.count() != 1 {
			t.Fatalf("answers %v and %d SMS, want one 0, 31 4001s and one SMS", got, r.inbox.count())
		}
	})
}

func TestRace_OnePhoneGetsOneSMSPerInterval(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		mobile := newMobile()
		type solved struct{ id, answer string }
		captchas := make([]solved, 32)
		for i := range captchas {
			captchas[i].id, captchas[i].answer = r.captcha()
		}
		got := race(len(captchas), func(i int) response {
			return r.get("/sms_codes/" + mobile + "/?uuid=" + captchas[i].id + "&image_code=" + captchas[i].answer)
		})
		if got["200 0"] != 1 || got["200 4002"] != 31 || r.inbox.count() != 1 {
			t.Fatalf("answers %v and %d SMS, want one 0, 31 4002s and one SMS", got, r.inbox.count())
		}
	})
}

func TestRace_ParallelWrongGuessesStillBurnTheCode(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		mobile := newMobile()
		want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
		code := r.inbox.lastCode(t, "+86"+mobile)
		got := race(40, func(i int) response {
			guess := strings.Repeat(string(rune('0'+i%10)), 6)
			if guess == code {
				guess = "not-it"
			}
			return r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+guess+`"}`)
		})
		if got["200 0"] != 0 {
			t.Fatalf("answers %v: a wrong guess verified", got)
		}
		want(t, r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+code+`"}`), http.StatusOK, httpapi.CodeSMSCodeError)
	})
}

func TestRace_RightCodeVerifiesOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		mobile := newMobile()
		want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
		code := r.inbox.lastCode(t, "+86"+mobile)
		got := race(5, func(int) response {
			return r.post("/sms_codes/"+mobile+"/verify/", "application/json", `{"sms_code":"`+code+`"}`)
		})
		if got["200 0"] != 1 || got["200 4008"] != 4 {
			t.Fatalf("answers %v, want one 0 and four 4008s", got)
		}
	})
}
