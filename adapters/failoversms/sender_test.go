package failoversms_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/failoversms"
	"github.com/lemonmall/verifyd/domain"
)

// scripted answers each send with the next error of its script (nil: a
// receipt) and counts sends.
type scripted struct {
	name   string
	script []error
	sends  int
}

func (s *scripted) SendSMS(_ context.Context, msg domain.SMSMessage) (domain.SMSReceipt, error) {
	s.sends++
	if len(s.script) > 0 {
		err := s.script[0]
		s.script = s.script[1:]
		if err != nil {
			return domain.SMSReceipt{}, err
		}
	}
	return domain.SMSReceipt{Provider: s.name, Reference: msg.ID}, nil
}

type observed struct {
	mu   sync.Mutex
	seen []string
}

func (o *observed) ObserveDelivery(outcome domain.DeliveryOutcome, provider string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, provider+":"+string(outcome))
}

func unavailable(p string) error {
	return &domain.SendError{Provider: p, Code: 503, Retryable: true, Reason: "HTTP 503 for +8613812345678"}
}

func refused(p string) error {
	return &domain.SendError{Provider: p, Retryable: false, Reason: "isv.MOBILE_NUMBER_ILLEGAL 8613812345678"}
}

func message(t *testing.T) domain.SMSMessage {
	t.Helper()
	to, err := domain.NewPhoneNumber("+8613812345678", "CN", domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	return domain.SMSMessage{ID: "m1", To: to, Code: "482913", CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
}

func setup(t *testing.T, first, second *scripted) (*failoversms.Sender, *observed, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	obs := &observed{}
	s, err := failoversms.New([]failoversms.Provider{{Name: first.name, Sender: first}, {Name: second.name, Sender: second}},
		obs, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s, obs, &logs
}

func TestSender_RetryableFailureGoesToTheNextProviderAtOnce(t *testing.T) {
	aliyun, tencent := &scripted{name: "aliyun", script: []error{unavailable("aliyun")}}, &scripted{name: "tencent"}
	s, obs, logs := setup(t, aliyun, tencent)

	receipt, err := s.SendSMS(t.Context(), message(t))

	if err != nil || receipt.Provider != "tencent" || aliyun.sends != 1 || tencent.sends != 1 {
		t.Fatalf("receipt %+v err %v, sends %d/%d; want tencent's receipt after one try each", receipt, err, aliyun.sends, tencent.sends)
	}
	if strings.Join(obs.seen, ",") != "aliyun:failed_over" {
		t.Errorf("observed %v, want aliyun:failed_over", obs.seen)
	}
	out := logs.String()
	if !strings.Contains(out, `"provider":"aliyun","next":"tencent"`) || strings.Contains(out, "13812345678") || strings.Contains(out, "482913") {
		t.Errorf("failover log %s: want the providers named, without number or code", out)
	}
}

func TestSender_PermanentRefusalIsNotTriedElsewhere(t *testing.T) {
	aliyun, tencent := &scripted{name: "aliyun", script: []error{refused("aliyun")}}, &scripted{name: "tencent"}
	s, obs, _ := setup(t, aliyun, tencent)

	_, err := s.SendSMS(t.Context(), message(t))

	var se *domain.SendError
	if !errors.As(err, &se) || se.Retryable || se.Provider != "aliyun" {
		t.Fatalf("got %v, want aliyun's permanent refusal", err)
	}
	if tencent.sends != 0 || len(obs.seen) != 0 {
		t.Errorf("tencent got %d sends, observed %v; want none", tencent.sends, obs.seen)
	}
}

func TestSender_AllFailingReturnsTheLastRetryableError(t *testing.T) {
	aliyun := &scripted{name: "aliyun", script: []error{unavailable("aliyun"), nil}}
	tencent := &scripted{name: "tencent", script: []error{unavailable("tencent")}}
	s, _, _ := setup(t, aliyun, tencent)

	_, err := s.SendSMS(t.Context(), message(t))
	var se *domain.SendError
	if !errors.As(err, &se) || !se.Retryable || se.Provider != "tencent" {
		t.Fatalf("got %v, want tencent's retryable error", err)
	}
	// The next attempt starts with the preferred provider again.
	receipt, err := s.SendSMS(t.Context(), message(t))
	if err != nil || receipt.Provider != "aliyun" || aliyun.sends != 2 || tencent.sends != 1 {
		t.Fatalf("second attempt: %+v %v (sends %d/%d), want aliyun", receipt, err, aliyun.sends, tencent.sends)
	}
}

func TestSender_CancelledCallerStopsTheList(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	aliyun, tencent := &scripted{name: "aliyun", script: []error{context.Canceled}}, &scripted{name: "tencent"}
	s, _, _ := setup(t, aliyun, tencent)

	_, err := s.SendSMS(ctx, message(t))
	var se *domain.SendError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &se) || se.Provider != "aliyun" || tencent.sends != 0 {
		t.Fatalf("got %v, tencent sends %d; want aliyun's cancellation and no other try", err, tencent.sends)
	}
}

func TestNew_RefusesFewerThanTwoProvidersAndNilDependencies(t *testing.T) {
	one := []failoversms.Provider{{Name: "aliyun", Sender: &scripted{name: "aliyun"}}}
	if _, err := failoversms.New(one, &observed{}, slog.Default()); err == nil {
		t.Error("accepted one provider")
	}
	two := append(one, failoversms.Provider{Name: "tencent"})
	if _, err := failoversms.New(two, &observed{}, slog.Default()); err == nil {
		t.Error("accepted a provider without a sender")
	}
	two[1].Sender = &scripted{name: "tencent"}
	if _, err := failoversms.New(two, nil, slog.Default()); err == nil {
		t.Error("accepted a nil observer")
	}
}
