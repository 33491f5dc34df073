package smsrate_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/lemonmall/verifyd/adapters/smsrate"
	"github.com/lemonmall/verifyd/domain"
)

// recorder is the next sender: it keeps what it was asked to send.
type recorder struct {
	mu    sync.Mutex
	texts []string
}

func (r *recorder) SendSMS(_ context.Context, msg domain.SMSMessage) (domain.SMSReceipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.texts = append(r.texts, msg.To.E164()+" "+string(msg.Code))
	return domain.SMSReceipt{Provider: "recorder"}, nil
}

func message(t *testing.T, code string) domain.SMSMessage {
	return domain.SMSMessage{ID: "m-" + code, To: phone(t), Code: domain.SMSCode(code)}
}

func phone(t *testing.T) domain.PhoneNumber {
	p, err := domain.NewPhoneNumber("+8613800138000", "CN", domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLimit_NoRateLeavesTheSenderAsItIs(t *testing.T) {
	next := &recorder{}
	for _, r := range []float64{0, -1} {
		if got := smsrate.Limit(next, r); got != domain.SMSSender(next) {
			t.Errorf("Limit(next, %v) = %T, want next itself", r, got)
		}
	}
}

func TestLimit_EverySendReachesTheProviderUnchanged(t *testing.T) {
	next := &recorder{}
	s := smsrate.Limit(next, 1e6)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := s.SendSMS(context.Background(), message(t, "123456")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(next.texts) != 20 || next.texts[0] != "+8613800138000 123456" {
		t.Errorf("provider got %d sends, first %q", len(next.texts), next.texts[0])
	}
}

// A send whose context ends while it waits for its turn must not reach the
// provider: the worker then hands the message to another worker, and a late
// send would deliver it twice.
func TestLimit_ASendCancelledWhileWaitingIsNotSent(t *testing.T) {
	next := &recorder{}
	s := smsrate.Limit(next, 0.001) // one send, then the next in 1000 s
	if _, err := s.SendSMS(context.Background(), message(t, "111111")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.SendSMS(ctx, message(t, "222222"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if len(next.texts) != 1 {
		t.Errorf("provider got %v, want only the first", next.texts)
	}
}

func TestLimit_RefusesANilSender(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Limit(nil, 10) did not panic")
		}
	}()
	smsrate.Limit(nil, 10)
}
