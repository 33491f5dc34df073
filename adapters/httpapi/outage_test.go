package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/domain"
)

// failingStore answers every call with an outage.
type failingStore struct{}

func (failingStore) SaveChallenge(context.Context, domain.ChallengeID, string, time.Duration) error {
	return domain.ErrStoreUnavailable
}
func (failingStore) TakeChallenge(context.Context, domain.ChallengeID) (string, error) {
	return "", domain.ErrStoreUnavailable
}
func (failingStore) IssueCode(context.Context, domain.PhoneNumber, domain.NewCode) error {
	return domain.ErrStoreUnavailable
}
func (failingStore) CheckIssue(context.Context, domain.PhoneNumber, []domain.Quota) error {
	return domain.ErrStoreUnavailable
}
func (failingStore) AttemptCode(context.Context, domain.PhoneNumber, int) ([]byte, error) {
	return nil, domain.ErrStoreUnavailable
}
func (failingStore) WithdrawCode(context.Context, domain.PhoneNumber, []byte) error {
	return domain.ErrStoreUnavailable
}
func (failingStore) ConsumeCode(context.Context, domain.PhoneNumber, []byte) (bool, error) {
	return false, domain.ErrStoreUnavailable
}
func (failingStore) Ping(context.Context) error { return errors.New("dial tcp: connection refused") }

func TestStoreOutage_Is503With5000AndReadyzFails(t *testing.T) {
	r := newRig(t, failingStore{})
	want(t, r.get("/readyz"), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
	want(t, r.get("/healthz"), http.StatusOK, httpapi.CodeOK)
	want(t, r.get("/image_codes/"+uuid.NewString()+"/"), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
	want(t, r.get("/sms_codes/"+newMobile()+"/?uuid="+uuid.NewString()+"&image_code=abcd"), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
	want(t, r.post("/sms_codes/"+newMobile()+"/verify/", "application/json", `{"sms_code":"123456"}`), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
}

func TestOutboxRefusal_Is503AndThePhoneMayRetryAtOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(*testing.T) store) {
		r := newRig(t, newStore(t))
		mobile := newMobile()
		r.inbox.err = domain.ErrOutboxFull
		want(t, r.requestCode(mobile), http.StatusServiceUnavailable, httpapi.CodeServiceUnavailable)
		r.inbox.mu.Lock()
		r.inbox.err = nil
		r.inbox.mu.Unlock()
		want(t, r.requestCode(mobile), http.StatusOK, httpapi.CodeOK)
	})
}

func TestLogs_NeverContainCodesOrAnswers(t *testing.T) {
	r := newRig(t, failingStore{})
	r.get("/sms_codes/" + newMobile() + "/?uuid=" + uuid.NewString() + "&image_code=sekret")
	r.post("/sms_codes/"+newMobile()+"/verify/", "application/json", `{"sms_code":"987654"}`)
	logs := r.logBuf.String()
	if logs == "" {
		t.Fatal("outages were not logged")
	}
	for _, secret := range []string{"sekret", "987654"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
}
