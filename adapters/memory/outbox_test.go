package memory_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/logtest"
	"github.com/lemonmall/verifyd/adapters/memory"
	"github.com/lemonmall/verifyd/adapters/outboxtest"
	"github.com/lemonmall/verifyd/domain"
)

// outboxWaitLimit only bounds a broken test; no assertion depends on timing.
const outboxWaitLimit = 10 * time.Second

const outboxTestCode = "482913"

var outboxTemporary = &domain.SendError{Provider: "fake", Code: 503, Retryable: true, Reason: "unavailable"}

// outboxFakeSender returns scripted results and records every call.
type outboxFakeSender struct {
	mu      sync.Mutex
	calls   []string                         // E.164 of each call
	results []error                          // result of call i; nil past the end
	before  func(n int, ctx context.Context) // runs before call n (1-based) returns
	called  chan int                         // receives n after call n, if not nil
}

func (s *outboxFakeSender) SendSMS(ctx context.Context, msg domain.SMSMessage) (domain.SMSReceipt, error) {
	s.mu.Lock()
	s.calls = append(s.calls, msg.To.E164())
	n := len(s.calls)
	var err error
	if n <= len(s.results) {
		err = s.results[n-1]
	}
	before := s.before
	s.mu.Unlock()
	if before != nil {
		before(n, ctx)
	}
	if s.called != nil {
		s.called <- n
	}
	if err != nil {
		return domain.SMSReceipt{}, err
	}
	return domain.SMSReceipt{Provider: "fake"}, nil
}

func (s *outboxFakeSender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

type outboxHarness struct {
	outbox *memory.Outbox
	sender *outboxFakeSender
	clock  *fakeClock
	logs   *logtest.Buffer
}

func newOutboxHarness(t *testing.T, sender *outboxFakeSender, cfg memory.OutboxConfig) *outboxHarness {
	t.Helper()
	if cfg.Policy.Backoff == 0 {
		cfg.Policy.Backoff = time.Millisecond
	}
	h := &outboxHarness{
		sender: sender,
		clock:  &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
		logs:   &logtest.Buffer{},
	}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.outbox = memory.NewOutbox(sender, h.clock, logger, cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), outboxWaitLimit)
		defer cancel()
		_ = h.outbox.Close(ctx)
		h.assertLogsClean(t)
	})
	return h
}

func (h *outboxHarness) message(t *testing.T, id string) domain.SMSMessage {
	t.Helper()
	to, err := domain.NewPhoneNumber("+8613812345678", "CN", domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()
	return domain.SMSMessage{ID: id, To: to, Code: outboxTestCode, CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
}

func (h *outboxHarness) enqueue(t *testing.T, msg domain.SMSMessage) {
	t.Helper()
	if err := h.outbox.Enqueue(context.Background(), msg); err != nil {
		t.Fatalf("Enqueue(%s): %v", msg.ID, err)
	}
}

func (h *outboxHarness) close(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), outboxWaitLimit)
	defer cancel()
	if err := h.outbox.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// assertLogsClean checks that neither the text, the code nor the full number
// was logged.
func (h *outboxHarness) assertLogsClean(t *testing.T) {
	t.Helper()
	logs := h.logs.String()
	for _, secret := range []string{outboxTestCode, "+8613812345678", "8613812345678"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}

func (h *outboxHarness) assertLogged(t *testing.T, id, outcome string) {
	t.Helper()
	logs := h.logs.String()
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "message_id="+id+" ") && strings.Contains(line, "outcome="+outcome) {
			if !strings.Contains(line, "to="+domain.MaskPhone("+8613812345678")) {
				t.Errorf("log line lacks the masked phone: %s", line)
			}
			return
		}
	}
	t.Errorf("no %s line for %s in logs:\n%s", outcome, id, logs)
}

// TestOutbox_Contract runs the delivery contract every outbox honours; the
// tests below are of what only the in-process pool does: its bounded queue
// and its Close.
func TestOutbox_Contract(t *testing.T) {
	outboxtest.Run(t, func(t *testing.T, s outboxtest.Setup) outboxtest.Harness {
		o := memory.NewOutbox(s.Sender, s.Clock, s.Logger, memory.OutboxConfig{Policy: s.Policy, Observer: s.Observer})
		stop := func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), outboxWaitLimit)
			defer cancel()
			if err := o.Close(ctx); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
		t.Cleanup(func() { stop(t) })
		return outboxtest.Harness{Outbox: o, Stop: stop}
	})
}

func waitOutboxCalls(t *testing.T, called <-chan int, n int) {
	t.Helper()
	timeout := time.After(outboxWaitLimit)
	for {
		select {
		case got := <-called:
			if got >= n {
				return
			}
		case <-timeout:
			t.Fatalf("sender was not called %d times", n)
		}
	}
}

func TestOutbox_RefusesWhenQueueIsFull(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	sender := &outboxFakeSender{before: func(n int, _ context.Context) {
		if n == 1 {
			close(started)
			<-release
		}
	}}
	h := newOutboxHarness(t, sender, memory.OutboxConfig{Workers: 1, QueueSize: 1})

	h.enqueue(t, h.message(t, "m1"))
	<-started // the only worker is busy with m1
	h.enqueue(t, h.message(t, "m2"))
	err := h.outbox.Enqueue(context.Background(), h.message(t, "m3"))

	if !errors.Is(err, domain.ErrOutboxFull) {
		t.Fatalf("Enqueue on a full queue = %v, want ErrOutboxFull", err)
	}
	close(release)
	h.close(t)
	if got := sender.count(); got != 2 {
		t.Errorf("sender called %d times, want 2 (m1 and m2)", got)
	}
}

func TestOutbox_RefusesAfterClose(t *testing.T) {
	h := newOutboxHarness(t, &outboxFakeSender{}, memory.OutboxConfig{})
	h.close(t)

	err := h.outbox.Enqueue(context.Background(), h.message(t, "m1"))

	if !errors.Is(err, domain.ErrOutboxFull) {
		t.Fatalf("Enqueue after Close = %v, want ErrOutboxFull", err)
	}
	if got := h.sender.count(); got != 0 {
		t.Errorf("sender called %d times, want 0", got)
	}
}

func TestOutbox_CloseDrainsQueuedMessages(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	sender := &outboxFakeSender{before: func(n int, _ context.Context) {
		if n == 1 {
			close(started)
			<-release
		}
	}}
	h := newOutboxHarness(t, sender, memory.OutboxConfig{Workers: 1, QueueSize: 10})

	h.enqueue(t, h.message(t, "m0"))
	<-started
	for i := 1; i < 5; i++ {
		h.enqueue(t, h.message(t, fmt.Sprintf("m%d", i)))
	}
	go close(release)
	h.close(t)

	if got := sender.count(); got != 5 {
		t.Fatalf("sender called %d times, want 5", got)
	}
	for i := range 5 {
		h.assertLogged(t, fmt.Sprintf("m%d", i), "delivered")
	}
}

func TestOutbox_CloseCutsRetryWaitShortWithOneLastAttempt(t *testing.T) {
	sender := &outboxFakeSender{
		results: []error{outboxTemporary, outboxTemporary, outboxTemporary},
		called:  make(chan int, 10),
	}
	// A backoff far beyond outboxWaitLimit: Close only succeeds if it
	// interrupts the wait.
	h := newOutboxHarness(t, sender, memory.OutboxConfig{Policy: domain.DeliveryPolicy{Backoff: time.Hour}})

	h.enqueue(t, h.message(t, "m1"))
	waitOutboxCalls(t, sender.called, 1)
	h.close(t)

	if got := sender.count(); got != 2 {
		t.Fatalf("sender called %d times, want 2 (first try and the last one at shutdown)", got)
	}
	h.assertLogged(t, "m1", "gave_up")
}

func TestOutbox_CloseDeliversOnLastAttemptAfterInterruptedWait(t *testing.T) {
	sender := &outboxFakeSender{results: []error{outboxTemporary, nil}, called: make(chan int, 10)}
	h := newOutboxHarness(t, sender, memory.OutboxConfig{Policy: domain.DeliveryPolicy{Backoff: time.Hour}})

	h.enqueue(t, h.message(t, "m1"))
	waitOutboxCalls(t, sender.called, 1)
	h.close(t)

	if got := sender.count(); got != 2 {
		t.Fatalf("sender called %d times, want 2", got)
	}
	h.assertLogged(t, "m1", "delivered")
}

func TestOutbox_CloseGivesUpWhenContextEnds(t *testing.T) {
	started := make(chan struct{})
	sender := &outboxFakeSender{
		results: []error{context.Canceled},
		before: func(n int, ctx context.Context) {
			if n == 1 {
				close(started)
				<-ctx.Done() // a provider that hangs until cancelled
			}
		},
	}
	h := newOutboxHarness(t, sender, memory.OutboxConfig{Workers: 1})

	h.enqueue(t, h.message(t, "m1"))
	<-started
	h.enqueue(t, h.message(t, "m2"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := h.outbox.Close(ctx)

	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Close = %v, want context.Canceled", err)
	}
	h.close(t) // now returns once the aborted workers have stopped
	if got := sender.count(); got != 1 {
		t.Errorf("sender called %d times, want 1 (m2 dropped)", got)
	}
	h.assertLogged(t, "m2", "dropped")
}
