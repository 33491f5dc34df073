package redis_test

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/adapters/logtest"
	"github.com/lemonmall/verifyd/adapters/outboxtest"
	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/redis/redistest"
	"github.com/lemonmall/verifyd/adapters/system"
	"github.com/lemonmall/verifyd/domain"
)

var (
	errTemporary = &domain.SendError{Provider: "fake", Code: 503, Retryable: true, Reason: "unavailable"}
	errPermanent = &domain.SendError{Provider: "fake", Code: 21211, Retryable: false, Reason: "invalid 'To' number"}
)

// fakeSender records every send per number and answers with script, called
// with the number and the 1-based call count for it (nil script: success).
type fakeSender struct {
	mu     sync.Mutex
	calls  map[string]int
	ok     map[string]int
	codes  []domain.SMSCode
	script func(ctx context.Context, to string, n int) error
}

func newFakeSender(script func(ctx context.Context, to string, n int) error) *fakeSender {
	return &fakeSender{calls: map[string]int{}, ok: map[string]int{}, script: script}
}

func (s *fakeSender) SendSMS(ctx context.Context, msg domain.SMSMessage) (domain.SMSReceipt, error) {
	to := msg.To
	s.mu.Lock()
	s.calls[to.E164()]++
	n := s.calls[to.E164()]
	s.codes = append(s.codes, msg.Code)
	s.mu.Unlock()
	var err error
	if s.script != nil {
		err = s.script(ctx, to.E164(), n)
	}
	if err != nil {
		return domain.SMSReceipt{}, err
	}
	s.mu.Lock()
	s.ok[to.E164()]++
	s.mu.Unlock()
	return domain.SMSReceipt{Provider: "fake"}, nil
}

// counts returns the sends and the successes for a number.
func (s *fakeSender) counts(to domain.PhoneNumber) (calls, ok int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[to.E164()], s.ok[to.E164()]
}

func (s *fakeSender) delivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.ok {
		n += c
	}
	return n
}

// code is a testMessage's one-time code.
func code(msg domain.SMSMessage) string { return string(msg.Code) }

func newLogSink(t *testing.T, sender *fakeSender) (*logtest.Buffer, *slog.Logger) {
	t.Helper()
	sink := &logtest.Buffer{}
	t.Cleanup(func() {
		logs := sink.String()
		sender.mu.Lock()
		defer sender.mu.Unlock()
		// A code is 6 digits: look for it as a token of its own, not
		// inside the digits of a timestamp, stream id or message id.
		for _, code := range sender.codes {
			if regexp.MustCompile(`(^|[^0-9A-Za-z])` + string(code) + `([^0-9A-Za-z]|$)`).MatchString(logs) {
				t.Errorf("message code %s is in the logs:\n%s", code, logs)
			}
		}
		for to := range sender.calls {
			if strings.Contains(logs, to[1:]) {
				t.Errorf("the full number %s is in the logs", to)
			}
		}
		if t.Failed() {
			t.Logf("worker logs:\n%s", logs)
		}
	})
	return sink, slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fastOptions keeps tests short: tiny backoffs and reads. The visibility
// timeout is long enough that a test machine's stalls never let a second
// worker take over a live one's message; tests of take-overs shorten it.
func fastOptions(keys redis.StreamKeys) redis.WorkerOptions {
	return redis.WorkerOptions{Sealer: testSealer,
		Keys:              keys,
		Concurrency:       4,
		VisibilityTimeout: 10 * time.Second,
		Policy:            domain.DeliveryPolicy{Backoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond},
		Block:             100 * time.Millisecond,
		ShutdownTimeout:   5 * time.Second,
	}
}

// runWorker runs a worker until the returned stop is called or the test
// ends; stop waits for Run to return.
func runWorker(t *testing.T, client rueidis.Client, sender domain.SMSSender, logger *slog.Logger, opts redis.WorkerOptions) (stop func()) {
	t.Helper()
	return startWorker(t, redis.NewWorker(client, sender, system.Clock{}, logger, opts))
}

// startWorker runs w until the returned stop is called or the test ends;
// stop waits for Run to return.
func startWorker(t *testing.T, w *redis.Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	stop = sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return within 30s of its cancellation")
		}
	})
	t.Cleanup(stop)
	return stop
}

func enqueue(t *testing.T, o *redis.Outbox, msg domain.SMSMessage) {
	t.Helper()
	if err := o.Enqueue(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
}

// wantQueueEmpty checks that nothing is left in the stream or pending.
func wantQueueEmpty(t *testing.T, client rueidis.Client, keys redis.StreamKeys) {
	t.Helper()
	eventually(t, "the stream is empty and nothing is pending", func() bool {
		n, err := client.Do(t.Context(), client.B().Xlen().Key(keys.Stream).Build()).AsInt64()
		if err != nil || n != 0 {
			return false
		}
		p, err := client.Do(t.Context(), client.B().Xpending().Key(keys.Stream).Group(keys.Group).Build()).ToArray()
		if err != nil {
			return false
		}
		pending, _ := p[0].AsInt64()
		return pending == 0
	})
}

func deadLetters(t *testing.T, client rueidis.Client, keys redis.StreamKeys) []rueidis.XRangeEntry {
	t.Helper()
	return streamEntries(t, client, keys.DeadLetter)
}

// TestWorker_Contract runs the delivery contract every outbox honours over
// the Redis outbox and a worker; once each subtest's messages reached their
// end, nothing of them may be left in the stream, pending or counted. The
// tests below are of what only the stream does.
func TestWorker_Contract(t *testing.T) {
	client := redistest.Client(t)
	outboxtest.Run(t, func(t *testing.T, s outboxtest.Setup) outboxtest.Harness {
		keys := testKeys(t, client)
		opts := fastOptions(keys)
		opts.Policy, opts.Observer = s.Policy, s.Observer
		stopWorker := startWorker(t, redis.NewWorker(client, s.Sender, s.Clock, s.Logger, opts))
		return outboxtest.Harness{
			Outbox: redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys}),
			Stop: func(t *testing.T) {
				stopWorker()
				wantNothingLeft(t, client, keys)
			},
		}
	})
}

// wantNothingLeft checks, once the workers stopped, that no entry is left
// in the stream or pending and no attempt counter is left behind.
func wantNothingLeft(t *testing.T, client rueidis.Client, keys redis.StreamKeys) {
	t.Helper()
	ctx := context.Background()
	if n, err := client.Do(ctx, client.B().Xlen().Key(keys.Stream).Build()).AsInt64(); err != nil || n != 0 {
		t.Errorf("stream holds %d entries (%v), want none", n, err)
	}
	p, err := client.Do(ctx, client.B().Xpending().Key(keys.Stream).Group(keys.Group).Build()).ToArray()
	if err != nil {
		t.Errorf("XPENDING: %v", err)
	} else if pending, _ := p[0].AsInt64(); pending != 0 {
		t.Errorf("%d entries pending, want none", pending)
	}
	if left, err := client.Do(ctx, client.B().Keys().Pattern(keys.AttemptsPrefix+"*").Build()).AsStrSlice(); err != nil || len(left) != 0 {
		t.Errorf("attempt counters left behind: %v (%v)", left, err)
	}
}

// What each final outcome leaves in Redis besides an empty queue: a record
// that the message was sent, or a dead letter saying why it was not, without
// its text or its full number.
func TestWorker_RecordsEachFinalOutcome(t *testing.T) {
	client := redistest.Client(t)
	for _, tc := range []struct {
		name     string
		result   error
		expired  bool
		sends    int
		attempts string   // the dead letter's; "" when there is none
		reason   []string // what the dead letter's reason says
	}{
		{name: "delivered", sends: 1},
		{name: "failed", result: errPermanent, sends: 1, attempts: "1", reason: []string{"permanent", "21211"}},
		{name: "gave up", result: errTemporary, sends: 4, attempts: "4", reason: []string{"gave up after 4 attempts", "unavailable"}},
		{name: "expired", expired: true, attempts: "0", reason: []string{"expired"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keys := testKeys(t, client)
			sender := newFakeSender(func(context.Context, string, int) error { return tc.result })
			_, logger := newLogSink(t, sender)
			msg := testMessage(t, time.Minute)
			if tc.expired {
				msg.CreatedAt, msg.ExpiresAt = msg.CreatedAt.Add(-2*time.Minute), msg.ExpiresAt.Add(-2*time.Minute)
			}
			enqueue(t, redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys}), msg)
			stop := runWorker(t, client, sender, logger, fastOptions(keys))
			wantQueueEmpty(t, client, keys)
			stop()
			wantNothingLeft(t, client, keys)

			if calls, _ := sender.counts(msg.To); calls != tc.sends {
				t.Errorf("%d sends, want %d", calls, tc.sends)
			}
			sent, err := client.Do(t.Context(), client.B().Exists().Key(keys.SentPrefix+msg.ID).Build()).AsInt64()
			if err != nil || (sent == 1) != (tc.attempts == "") {
				t.Errorf("sent record exists: %d (%v), want it for a delivery only", sent, err)
			}
			dl := deadLetters(t, client, keys)
			if tc.attempts == "" {
				if len(dl) != 0 {
					t.Errorf("dead letters %v, want none", dl)
				}
				return
			}
			if len(dl) != 1 {
				t.Fatalf("dead letters %v, want one", dl)
			}
			f := dl[0].FieldValues
			if f["id"] != msg.ID || f["to"] != msg.To.String() || f["attempts"] != tc.attempts ||
				f["created_at"] == "" || f["expires_at"] == "" || f["failed_at"] == "" {
				t.Errorf("dead letter %v", f)
			}
			for _, want := range tc.reason {
				if !strings.Contains(f["reason"], want) {
					t.Errorf("dead letter reason %q lacks %q", f["reason"], want)
				}
			}
			for k, v := range f {
				if strings.Contains(v, code(msg)) || strings.Contains(v, msg.To.E164()[1:]) {
					t.Errorf("dead letter field %s holds the text or the full number: %q", k, v)
				}
			}
		})
	}
}

// A message delivered once and then delivered to a worker again (its first
// worker died before acknowledging it) is acknowledged, not sent again.
func TestWorker_DoesNotResendADeliveredMessage(t *testing.T) {
	client := redistest.Client(t)
	keys := testKeys(t, client)
	sender := newFakeSender(nil)
	sink, logger := newLogSink(t, sender)
	runWorker(t, client, sender, logger, fastOptions(keys))
	o := redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys})
	msg := testMessage(t, time.Minute)
	enqueue(t, o, msg)
	eventually(t, "the message is delivered", func() bool { _, ok := sender.counts(msg.To); return ok == 1 })

	enqueue(t, o, msg) // the same message id again
	eventually(t, "the redelivery is skipped", func() bool { return strings.Contains(sink.String(), `"outcome":"duplicate"`) })
	wantQueueEmpty(t, client, keys)
	if calls, _ := sender.counts(msg.To); calls != 1 {
		t.Errorf("%d sends, want 1", calls)
	}
}

// The attempt count is kept in Redis, so a message whose workers keep dying
// mid-send is dead-lettered instead of bouncing for ever.
func TestWorker_CountsAttemptsAcrossWorkers(t *testing.T) {
	client := redistest.Client(t)
	keys := testKeys(t, client)
	sender := newFakeSender(nil)
	_, logger := newLogSink(t, sender)
	msg := testMessage(t, time.Minute)
	// Four earlier workers each died during their attempt.
	if err := client.Do(t.Context(), client.B().Set().Key(keys.AttemptsPrefix+msg.ID).Value("4").Px(time.Minute).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Do(context.Background(), client.B().Del().Key(keys.AttemptsPrefix+msg.ID).Build()) })
	enqueue(t, redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys}), msg)
	runWorker(t, client, sender, logger, fastOptions(keys))

	var dl []rueidis.XRangeEntry
	eventually(t, "the message is dead-lettered", func() bool { dl = deadLetters(t, client, keys); return len(dl) == 1 })
	if calls, _ := sender.counts(msg.To); calls != 0 {
		t.Errorf("%d sends after the attempts ran out", calls)
	}
	if f := dl[0].FieldValues; f["attempts"] != "4" || !strings.Contains(f["reason"], "unknown") {
		t.Errorf("dead letter %v", f)
	}
}

func TestWorker_DeliversWhatWasEnqueuedBeforeItStarted(t *testing.T) {
	client := redistest.Client(t)
	keys := testKeys(t, client)
	o := redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys})
	msgs := []domain.SMSMessage{testMessage(t, time.Minute), testMessage(t, time.Minute), testMessage(t, time.Minute)}
	for _, m := range msgs {
		enqueue(t, o, m)
	}
	sender := newFakeSender(nil)
	_, logger := newLogSink(t, sender)
	runWorker(t, client, sender, logger, fastOptions(keys))
	eventually(t, "every message is delivered", func() bool { return sender.delivered() == len(msgs) })
	wantQueueEmpty(t, client, keys)
}

// A message taken by a worker that died is taken over once it has been idle
// for the visibility timeout.
func TestWorker_TakesOverTheMessagesOfADeadWorker(t *testing.T) {
	client := redistest.Client(t)
	keys := testKeys(t, client)
	ctx := t.Context()
	if err := client.Do(ctx, client.B().XgroupCreate().Key(keys.Stream).Group(keys.Group).Id("0").Mkstream().Build()).Error(); err != nil {
		t.Fatal(err)
	}
	msg := testMessage(t, time.Minute)
	enqueue(t, redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys}), msg)
	// The dead worker read it and never acknowledged it.
	read, err := client.Do(ctx, client.B().Xreadgroup().Group(keys.Group, "dead-worker").Count(1).
		Streams().Key(keys.Stream).Id(">").Build()).AsXRead()
	if err != nil || len(read[keys.Stream]) != 1 {
		t.Fatalf("dead worker read %v, %v", read, err)
	}

	sender := newFakeSender(nil)
	sink, logger := newLogSink(t, sender)
	opts := fastOptions(keys)
	opts.VisibilityTimeout = 500 * time.Millisecond
	runWorker(t, client, sender, logger, opts)
	eventually(t, "the message is delivered", func() bool { _, ok := sender.counts(msg.To); return ok == 1 })
	wantQueueEmpty(t, client, keys)
	if !strings.Contains(sink.String(), `"outcome":"reclaimed"`) {
		t.Errorf("no reclaimed line:\n%s", sink.String())
	}
}

// A send longer than the visibility timeout is not taken over by another
// worker while its own worker lives: claims are renewed.
func TestWorker_RenewsItsClaimDuringLongSends(t *testing.T) {
	client := redistest.Client(t)
	keys := testKeys(t, client)
	sender := newFakeSender(func(ctx context.Context, _ string, _ int) error {
		select {
		case <-time.After(2500 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	_, logger := newLogSink(t, sender)
	opts := fastOptions(keys)
	opts.VisibilityTimeout = time.Second
	runWorker(t, client, sender, logger, opts)
	runWorker(t, client, sender, logger, opts)
	msg := testMessage(t, time.Minute)
	enqueue(t, redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys}), msg)
	eventually(t, "the message is delivered", func() bool { _, ok := sender.counts(msg.To); return ok == 1 })
	wantQueueEmpty(t, client, keys)
	if calls, _ := sender.counts(msg.To); calls != 1 {
		t.Errorf("%d sends, want 1", calls)
	}
}

// On shutdown a worker finishes the send in flight rather than abandon it.
func TestWorker_ShutdownFinishesTheSendInFlight(t *testing.T) {
	client := redistest.Client(t)
	keys := testKeys(t, client)
	started, finish := make(chan struct{}), make(chan struct{})
	sender := newFakeSender(func(ctx context.Context, _ string, _ int) error {
		close(started)
		<-finish
		return nil
	})
	_, logger := newLogSink(t, sender)
	stop := runWorker(t, client, sender, logger, fastOptions(keys))
	msg := testMessage(t, time.Minute)
	enqueue(t, redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys}), msg)
	<-started

	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Run returned with a send in flight")
	case <-time.After(200 * time.Millisecond):
	}
	close(finish)
	<-stopped
	if _, ok := sender.counts(msg.To); ok != 1 {
		t.Error("the send in flight was not completed")
	}
	wantQueueEmpty(t, client, keys)
}

// A send that outlasts the shutdown timeout is cancelled and its message
// released: another worker takes it at once, not after the visibility
// timeout.
func TestWorker_ShutdownReleasesWhatItCannotFinish(t *testing.T) {
	client := redistest.Client(t)
	keys := testKeys(t, client)
	started := make(chan struct{}, 1)
	sender := newFakeSender(func(ctx context.Context, _ string, n int) error {
		if n > 1 {
			return nil
		}
		started <- struct{}{}
		<-ctx.Done()
		return &domain.SendError{Provider: "fake", Retryable: true, Reason: "cancelled", Err: ctx.Err()}
	})
	sink, logger := newLogSink(t, sender)
	opts := fastOptions(keys)
	opts.VisibilityTimeout = time.Minute // only a release makes it visible in time
	opts.ShutdownTimeout = 200 * time.Millisecond
	stop := runWorker(t, client, sender, logger, opts)
	msg := testMessage(t, time.Minute)
	enqueue(t, redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys}), msg)
	<-started
	stop()
	if !strings.Contains(sink.String(), `"outcome":"released"`) {
		t.Fatalf("no released line:\n%s", sink.String())
	}

	runWorker(t, client, sender, logger, opts)
	eventually(t, "the next worker delivers it", func() bool { _, ok := sender.counts(msg.To); return ok == 1 })
	wantQueueEmpty(t, client, keys)
}

// Workers that stopped or were killed do not pile up in the group.
func TestWorker_RemovesGoneWorkersFromTheGroup(t *testing.T) {
	client := redistest.Client(t)
	keys := testKeys(t, client)
	ctx := t.Context()
	if err := client.Do(ctx, client.B().XgroupCreate().Key(keys.Stream).Group(keys.Group).Id("0").Mkstream().Build()).Error(); err != nil {
		t.Fatal(err)
	}
	msg := testMessage(t, time.Minute)
	enqueue(t, redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys}), msg)
	// A killed worker holding a message, and one that held nothing.
	for _, name := range []string{"killed-worker", "idle-worker"} {
		if err := client.Do(ctx, client.B().Xreadgroup().Group(keys.Group, name).Count(1).
			Streams().Key(keys.Stream).Id(">").Build()).Error(); err != nil && !rueidis.IsRedisNil(err) {
			t.Fatal(err)
		}
	}

	sender := newFakeSender(nil)
	_, logger := newLogSink(t, sender)
	opts := fastOptions(keys)
	opts.VisibilityTimeout = 300 * time.Millisecond
	runWorker(t, client, sender, logger, opts)
	eventually(t, "the message is delivered", func() bool { _, ok := sender.counts(msg.To); return ok == 1 })
	eventually(t, "only the running worker is left in the group", func() bool {
		consumers, err := client.Do(ctx, client.B().XinfoConsumers().Key(keys.Stream).Group(keys.Group).Build()).ToArray()
		return err == nil && len(consumers) == 1
	})
}

func TestWorker_TwoWorkersNeverSendAMessageTwice(t *testing.T) {
	client := redistest.Client(t)
	keys := testKeys(t, client)
	// The first sends are held until both workers fill every send slot, so
	// the two surely work on the stream at the same time.
	overlap := int32(2 * fastOptions(keys).Concurrency)
	var arrived atomic.Int32
	allIn := make(chan struct{})
	sender := newFakeSender(func(ctx context.Context, _ string, _ int) error {
		n := arrived.Add(1)
		if n == overlap {
			close(allIn)
		}
		if n <= overlap {
			select {
			case <-allIn:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	_, logger := newLogSink(t, sender)
	runWorker(t, client, sender, logger, fastOptions(keys))
	runWorker(t, client, sender, logger, fastOptions(keys))

	o := redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys})
	const total = 300
	msgs := make([]domain.SMSMessage, total)
	var wg sync.WaitGroup
	for i := range msgs {
		msgs[i] = testMessage(t, time.Minute)
		wg.Go(func() {
			if err := o.Enqueue(context.Background(), msgs[i]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	eventually(t, fmt.Sprintf("%d messages are delivered", total), func() bool { return sender.delivered() >= total })
	wantQueueEmpty(t, client, keys)
	for _, m := range msgs {
		if calls, ok := sender.counts(m.To); calls != 1 || ok != 1 {
			t.Errorf("message %s: %d sends", m.ID, calls)
		}
	}
}

// When messages stop, the stream key expires with the last code and takes
// the consumer group along; the worker recreates it and goes on.
func TestWorker_SurvivesTheStreamKeyExpiring(t *testing.T) {
	client := redistest.Client(t)
	keys := testKeys(t, client)
	sender := newFakeSender(nil)
	_, logger := newLogSink(t, sender)
	runWorker(t, client, sender, logger, fastOptions(keys))
	o := redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys})

	first := testMessage(t, 300*time.Millisecond)
	enqueue(t, o, first)
	// Gone (-2), or already recreated empty by the worker without expiry (-1).
	eventually(t, "the stream key expires", func() bool {
		ms, err := client.Do(t.Context(), client.B().Pttl().Key(keys.Stream).Build()).AsInt64()
		return err == nil && ms < 0
	})
	second := testMessage(t, time.Minute)
	enqueue(t, o, second)
	eventually(t, "the later message is delivered", func() bool { _, ok := sender.counts(second.To); return ok == 1 })
}

func TestWorker_DeadLettersEntriesItCannotRead(t *testing.T) {
	client := redistest.Client(t)
	keys := testKeys(t, client)
	if err := client.Do(t.Context(), client.B().Xadd().Key(keys.Stream).Id("*").FieldValue().
		FieldValue("id", "bogus").FieldValue("to", "not a number").FieldValue("code", "x").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	sender := newFakeSender(nil)
	_, logger := newLogSink(t, sender)
	runWorker(t, client, sender, logger, fastOptions(keys))
	var dl []rueidis.XRangeEntry
	eventually(t, "the entry is dead-lettered", func() bool { dl = deadLetters(t, client, keys); return len(dl) == 1 })
	wantQueueEmpty(t, client, keys)
	if f := dl[0].FieldValues; f["id"] != "bogus" || !strings.Contains(f["reason"], "malformed") {
		t.Errorf("dead letter %v", f)
	}
}

func TestNewWorker_RefusesNilDependencies(t *testing.T) {
	client := redistest.Client(t)
	sender := newFakeSender(nil)
	for name, build := range map[string]func(){
		"client": func() { redis.NewWorker(nil, sender, system.Clock{}, nil, redis.WorkerOptions{Sealer: testSealer}) },
		"sender": func() { redis.NewWorker(client, nil, system.Clock{}, nil, redis.WorkerOptions{Sealer: testSealer}) },
		"clock":  func() { redis.NewWorker(client, sender, nil, nil, redis.WorkerOptions{Sealer: testSealer}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("nil %s accepted", name)
				}
			}()
			build()
		}()
	}
}

func TestWorkerOptions_Defaults(t *testing.T) {
	w := redis.NewWorker(redistest.Client(t), newFakeSender(nil), system.Clock{}, nil, redis.WorkerOptions{Sealer: testSealer})
	o := w.Options()
	if o.Keys.Stream != "sms_outbox" || o.Keys.DeadLetter != "sms_outbox_dead" || o.Keys.Group != "smsworker" ||
		o.Keys.SentPrefix != "sms_sent:" || o.Policy != domain.DefaultDeliveryPolicy() || o.Consumer == "" ||
		o.Block >= o.ShutdownTimeout || o.Block >= o.VisibilityTimeout {
		t.Errorf("defaults %+v", o)
	}
}
