// Package outboxtest is the contract every domain.SMSOutbox must honour
// together with whatever sends its messages (the in-process pool of
// adapters/memory, the stream worker of adapters/redis): each message is
// delivered once, retried, refused, given up or dropped as expired exactly
// as domain.DeliveryPolicy says, every outcome is logged and observed, and
// neither the code nor the full number is ever logged. Each adapter runs the
// same suite, so the two cannot drift apart on the delivery rule.
//
// Every subtest builds its own outbox, with its own sender, clock, logger
// and observer, so subtests run in parallel and may share a Redis database.
package outboxtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/logtest"
	"github.com/lemonmall/verifyd/domain"
)

// Setup is what the suite hands the outbox under test to be built from.
type Setup struct {
	Sender   domain.SMSSender
	Clock    domain.Clock
	Logger   *slog.Logger
	Policy   domain.DeliveryPolicy
	Observer domain.DeliveryObserver
}

// Harness is one outbox under test, built from a Setup.
type Harness struct {
	// Outbox takes the suite's messages.
	Outbox domain.SMSOutbox
	// Stop ends delivery and returns once every send has finished and been
	// logged. The suite calls it once every message it enqueued reached a
	// final outcome; Stop may then check what the adapter must not leave
	// behind (a pending stream entry, an attempt counter). It must also be
	// safe to call again, as at the end of the test.
	Stop func(t *testing.T)
}

// NewOutbox builds an outbox for one subtest.
type NewOutbox func(t *testing.T, s Setup) Harness

// waitLimit only bounds a broken test; no assertion depends on timing.
const waitLimit = 15 * time.Second

// policy is the suite's retry rule: short waits, and the default number of
// attempts, which a zero MaxAttempts must mean.
var policy = domain.DeliveryPolicy{Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}

var (
	errTemporary = &domain.SendError{Provider: "fake", Code: 503, Retryable: true, Reason: "unavailable"}
	errPermanent = &domain.SendError{Provider: "fake", Code: 21211, Reason: "invalid number"}
)

// Run runs the contract suite; newOutbox is called once per subtest.
func Run(t *testing.T, newOutbox NewOutbox) {
	t.Helper()
	t.Run("DeliversAMessageOnce", func(t *testing.T) {
		t.Parallel()
		f := start(t, newOutbox, policy, nil)
		msg := f.enqueue(t)
		f.settle(t, 1)

		sent := f.sender.sent()
		if len(sent) != 1 || sent[0].To.E164() != msg.To.E164() || sent[0].Code != msg.Code || sent[0].ID != msg.ID {
			t.Fatalf("sent %+v, want the one message %s", sent, msg.ID)
		}
		f.wantLines(t, msg, "delivered@1")
		f.wantObserved(t, map[domain.DeliveryOutcome]int{domain.DeliveryDelivered: 1})
		if p := f.seen.providersOf(domain.DeliveryDelivered); len(p) != 1 || p[0] != "fake" {
			t.Errorf("delivery observed with providers %q, want the receipt's %q", p, "fake")
		}
	})

	t.Run("RetriesTemporaryFailuresUntilDelivered", func(t *testing.T) {
		t.Parallel()
		f := start(t, newOutbox, policy, func(_ context.Context, _ domain.SMSMessage, n int) error {
			switch n {
			case 1:
				return errTemporary
			case 2:
				return errors.New("connection reset") // unclassified: retryable
			}
			return nil
		})
		msg := f.enqueue(t)
		f.settle(t, 1)

		f.wantCalls(t, msg, 3)
		f.wantLines(t, msg, "retrying@1", "retrying@2", "delivered@3")
		f.wantObserved(t, map[domain.DeliveryOutcome]int{domain.DeliveryRetrying: 2, domain.DeliveryDelivered: 1})
	})

	t.Run("PermanentFailureIsNotRetried", func(t *testing.T) {
		t.Parallel()
		f := start(t, newOutbox, policy, always(errPermanent))
		msg := f.enqueue(t)
		f.settle(t, 1)

		f.wantCalls(t, msg, 1)
		f.wantLines(t, msg, "failed@1")
		f.wantObserved(t, map[domain.DeliveryOutcome]int{domain.DeliveryFailed: 1})
	})

	t.Run("GivesUpAfterTheDefaultAttempts", func(t *testing.T) {
		t.Parallel()
		f := start(t, newOutbox, policy, always(errTemporary))
		msg := f.enqueue(t)
		f.settle(t, 1)

		f.wantCalls(t, msg, domain.DefaultDeliveryPolicy().MaxAttempts)
		f.wantLines(t, msg, "retrying@1", "retrying@2", "retrying@3", "gave_up@4")
		f.wantObserved(t, map[domain.DeliveryOutcome]int{domain.DeliveryRetrying: 3, domain.DeliveryGaveUp: 1})
	})

	t.Run("GivesUpAfterThePolicysAttempts", func(t *testing.T) {
		t.Parallel()
		two := policy
		two.MaxAttempts = 2
		f := start(t, newOutbox, two, always(errTemporary))
		msg := f.enqueue(t)
		f.settle(t, 1)

		f.wantCalls(t, msg, 2)
		f.wantLines(t, msg, "retrying@1", "gave_up@2")
	})

	t.Run("ExpiredMessageIsNotSent", func(t *testing.T) {
		t.Parallel()
		f := start(t, newOutbox, policy, nil)
		msg := f.message(t)
		f.clock.set(msg.ExpiresAt)
		f.enqueueMessage(t, msg)
		f.settle(t, 1)

		f.wantCalls(t, msg, 0)
		f.wantLines(t, msg, "expired@0")
		f.wantObserved(t, map[domain.DeliveryOutcome]int{domain.DeliveryExpired: 1})
	})

	t.Run("StopsRetryingOnceExpired", func(t *testing.T) {
		t.Parallel()
		var f *fixture
		f = start(t, newOutbox, policy, func(context.Context, domain.SMSMessage, int) error {
			f.clock.advance(time.Hour) // the first attempt outlives the code
			return errTemporary
		})
		msg := f.enqueue(t)
		f.settle(t, 1)

		f.wantCalls(t, msg, 1)
		f.wantLines(t, msg, "retrying@1", "expired@1")
	})

	t.Run("ErrorsEchoingTheTextAreRedacted", func(t *testing.T) {
		t.Parallel()
		f := start(t, newOutbox, policy, func(_ context.Context, m domain.SMSMessage, _ int) error {
			return &domain.SendError{Provider: "fake", Reason: fmt.Sprintf(
				"body %q to %s (%s) refused", "Your code is "+string(m.Code), m.To.E164(), m.To.E164()[1:])}
		})
		msg := f.enqueue(t)
		f.settle(t, 1)

		f.wantLines(t, msg, "failed@1")
		f.wantLogsClean(t)
	})

	t.Run("DeliversEveryMessageOnce", func(t *testing.T) {
		t.Parallel()
		f := start(t, newOutbox, policy, nil)
		msgs := make([]domain.SMSMessage, 24)
		var wg sync.WaitGroup
		for i := range msgs {
			msgs[i] = f.message(t)
			wg.Go(func() {
				if err := f.h.Outbox.Enqueue(context.Background(), msgs[i]); err != nil {
					t.Errorf("Enqueue(%s): %v", msgs[i].ID, err)
				}
			})
		}
		wg.Wait()
		f.settle(t, len(msgs))

		for _, m := range msgs {
			f.wantCalls(t, m, 1)
			f.wantLines(t, m, "delivered@1")
		}
		f.wantObserved(t, map[domain.DeliveryOutcome]int{domain.DeliveryDelivered: len(msgs)})
	})

	t.Run("RefusesAMessageWithoutRecipient", func(t *testing.T) {
		t.Parallel()
		f := start(t, newOutbox, policy, nil)
		msg := f.message(t)
		msg.To = domain.PhoneNumber{}
		if err := f.h.Outbox.Enqueue(context.Background(), msg); err == nil {
			t.Fatal("Enqueue accepted a message without recipient")
		}
		f.h.Stop(t)

		if sent := f.sender.sent(); len(sent) != 0 {
			t.Errorf("sent %d messages, want none", len(sent))
		}
		f.wantObserved(t, map[domain.DeliveryOutcome]int{})
	})
}

// always is a sender script answering err to every send.
func always(err error) script {
	return func(context.Context, domain.SMSMessage, int) error { return err }
}

// fixture is one subtest's outbox and the fakes it was built with.
type fixture struct {
	h      Harness
	sender *sender
	clock  *clock
	seen   *observer
	logs   *logtest.Buffer

	mu   sync.Mutex
	made []domain.SMSMessage // every message made, for wantLogsClean
}

// start builds an outbox sending through a sender answering with s (nil:
// success). When the test ends, after the harness has stopped, it checks
// that neither a code nor a full number was logged.
func start(t *testing.T, newOutbox NewOutbox, p domain.DeliveryPolicy, s script) *fixture {
	t.Helper()
	f := &fixture{
		sender: &sender{script: s, calls: map[string]int{}},
		clock:  &clock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
		seen:   &observer{counts: map[domain.DeliveryOutcome]int{}, final: make(chan struct{}, 1024)},
		logs:   &logtest.Buffer{},
	}
	t.Cleanup(func() {
		f.wantLogsClean(t)
		if t.Failed() {
			t.Logf("logs:\n%s", f.logs.String())
		}
	})
	f.h = newOutbox(t, Setup{
		Sender:   f.sender,
		Clock:    f.clock,
		Logger:   slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Policy:   p,
		Observer: f.seen,
	})
	return f
}

// message returns a message to a random number with a random code, created
// now and valid for five minutes.
func (f *fixture) message(t *testing.T) domain.SMSMessage {
	t.Helper()
	to, err := domain.NewPhoneNumber("+86138"+randomDigits(t, 8), "CN", domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	msg := domain.SMSMessage{
		ID:        "m" + randomDigits(t, 16),
		To:        to,
		Code:      domain.SMSCode(randomDigits(t, 6)),
		Lang:      domain.Chinese,
		CreatedAt: now,
		ExpiresAt: now.Add(5 * time.Minute),
	}
	f.mu.Lock()
	f.made = append(f.made, msg)
	f.mu.Unlock()
	return msg
}

func (f *fixture) enqueue(t *testing.T) domain.SMSMessage {
	t.Helper()
	msg := f.message(t)
	f.enqueueMessage(t, msg)
	return msg
}

func (f *fixture) enqueueMessage(t *testing.T, msg domain.SMSMessage) {
	t.Helper()
	if err := f.h.Outbox.Enqueue(context.Background(), msg); err != nil {
		t.Fatalf("Enqueue(%s): %v", msg.ID, err)
	}
}

// settle waits until n messages reached a final outcome, then stops the
// outbox, so every line is logged and every send made.
func (f *fixture) settle(t *testing.T, n int) {
	t.Helper()
	limit := time.After(waitLimit)
	for i := range n {
		select {
		case <-f.seen.final:
		case <-limit:
			t.Fatalf("%d of %d messages reached a final outcome; observed %v", i, n, f.seen.snapshot())
		}
	}
	f.h.Stop(t)
}

func (f *fixture) wantCalls(t *testing.T, msg domain.SMSMessage, want int) {
	t.Helper()
	if got := f.sender.callsFor(msg.ID); got != want {
		t.Errorf("message %s sent %d times, want %d", msg.ID, got, want)
	}
}

func (f *fixture) wantObserved(t *testing.T, want map[domain.DeliveryOutcome]int) {
	t.Helper()
	got := f.seen.snapshot()
	if len(got) != len(want) {
		t.Errorf("observed %v, want %v", got, want)
		return
	}
	for o, n := range want {
		if got[o] != n {
			t.Errorf("observed %v, want %v", got, want)
			return
		}
	}
}
