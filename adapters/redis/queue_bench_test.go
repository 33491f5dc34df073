package redis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/memory"
	"github.com/lemonmall/verifyd/adapters/metrics"
	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/redis/redistest"
	"github.com/lemonmall/verifyd/adapters/smstext"
	"github.com/lemonmall/verifyd/adapters/system"
	"github.com/lemonmall/verifyd/adapters/twiliosms"
	"github.com/lemonmall/verifyd/application"
	"github.com/lemonmall/verifyd/domain"
)

// Benchmarks of the Redis SMS queue, run by `make bench` against the test
// Redis; docs/BENCHMARKS.md records their figures. Everything is on
// loopback: they measure verifyd's own cost, not a network's.

// latencies collects per-operation durations and reports percentiles.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	at := func(q float64) float64 {
		return float64(l.d[min(int(q*float64(len(l.d))), len(l.d)-1)].Microseconds())
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkOutbox_Enqueue is the cost VERIFY_SMS_QUEUE=redis adds to an SMS
// request: one script call (XTRIM, XLEN, XADD, PTTL/PEXPIRE), one round trip.
func BenchmarkOutbox_Enqueue(b *testing.B) {
	client := redistest.Client(b)
	keys := benchKeys(b)
	o := redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys, MaxLen: 1 << 30})
	msgs := benchMessages(b, 1024)
	ctx := context.Background()
	var lat latencies
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if err := o.Enqueue(ctx, msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
		lat.add(time.Since(start))
	}
	lat.report(b)
}

// BenchmarkOutbox_EnqueueParallel is the same from 8 goroutines per CPU at
// once, as concurrent requests do.
func BenchmarkOutbox_EnqueueParallel(b *testing.B) {
	client := redistest.Client(b)
	keys := benchKeys(b)
	o := redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys, MaxLen: 1 << 30})
	msgs := benchMessages(b, 1024)
	var lat latencies
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			start := time.Now()
			if err := o.Enqueue(ctx, msgs[int(n.Add(1))%len(msgs)]); err != nil {
				b.Error(err)
				return
			}
			lat.add(time.Since(start))
		}
	})
	lat.report(b)
}

// BenchmarkRequestSMSCode runs the SMS request use case on the Redis store
// with each outbox, so the difference is what the Redis queue adds to a
// request's own work (captcha take, resend slot and code, enqueue). The
// memory outbox's senders discard the messages.
func BenchmarkRequestSMSCode(b *testing.B) {
	client := redistest.Client(b)
	store := redis.NewStore(client)
	limiter := redis.NewLimiter(client)
	digester, err := domain.NewCodeDigester([]byte("bench-secret-bench-secret-bench-secret"))
	if err != nil {
		b.Fatal(err)
	}
	policy := domain.DefaultPolicy()
	policy.Limits = domain.Limits{} // the resend interval only: no budget to run out of
	discard := slog.New(slog.NewJSONHandler(io.Discard, nil))

	for _, kind := range []string{"redis", "memory"} {
		b.Run("outbox="+kind, func(b *testing.B) {
			var outbox domain.SMSOutbox
			switch kind {
			case "memory":
				mo := memory.NewOutbox(nopSender{}, system.Clock{}, discard, memory.OutboxConfig{QueueSize: 1 << 16})
				b.Cleanup(func() { mo.Close(context.Background()) })
				outbox = mo
			case "redis":
				outbox = redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: benchKeys(b)})
			}
			uc, err := application.NewRequestSMSCode(store, store, outbox, limiter, metrics.New(), digester, system.Random{}, system.Clock{}, policy)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var lat latencies
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				id := domain.ChallengeID("6f1c2a4e-3b7d-4c8e-9a0b-" + benchRandom(12, "0123456789abcdef"))
				if err := store.SaveChallenge(ctx, id, "ab3d", time.Minute); err != nil {
					b.Fatal(err)
				}
				phone, err := domain.NewPhoneNumber(benchPhone(), "CN", domain.LineMobile)
				if err != nil {
					b.Fatal(err)
				}
				in := application.RequestSMSCodeInput{Phone: phone, ChallengeID: id, ImageCode: "ab3d"}
				b.StartTimer()
				start := time.Now()
				if err := uc.Handle(ctx, in); err != nil {
					b.Fatal(err)
				}
				lat.add(time.Since(start))
			}
			b.StopTimer()
			lat.report(b)
		})
	}
}

// BenchmarkWorker_Throughput drains b.N queued messages through one and two
// workers (VERIFY_SMS_WORKERS=4 sends each) and the twiliosms sender talking
// to a local server that answers like Twilio's Messages API, at once or
// after 50 ms (closer to a real provider). It reports messages per second.
func BenchmarkWorker_Throughput(b *testing.B) {
	for _, delay := range []time.Duration{0, 50 * time.Millisecond} {
		for _, workers := range []int{1, 2} {
			b.Run("provider="+delay.String()+"/workers="+strconv.Itoa(workers), func(b *testing.B) {
				benchmarkThroughput(b, workers, delay)
			})
		}
	}
}

func benchmarkThroughput(b *testing.B, workers int, delay time.Duration) {
	client := redistest.Client(b)
	keys := benchKeys(b)
	provider := newBenchProvider(b, delay)
	text, err := smstext.NewRenderer(smstext.Templates{}, domain.English)
	if err != nil {
		b.Fatal(err)
	}
	sender, err := twiliosms.NewSender(twiliosms.Config{
		AccountSID: benchSID, AuthToken: "benchtoken", FromNumber: "+15005550006",
		APIBaseURL: provider.URL,
	}, text)
	if err != nil {
		b.Fatal(err)
	}
	o := redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys, MaxLen: 1 << 30})
	msgs := benchMessages(b, b.N)
	for _, m := range msgs {
		if err := o.Enqueue(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
	discard := slog.New(slog.NewJSONHandler(io.Discard, nil))
	opts := redis.WorkerOptions{Sealer: testSealer, Keys: keys, Block: 100 * time.Millisecond}

	b.ResetTimer()
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range workers {
		w := redis.NewWorker(client, sender, system.Clock{}, discard, opts)
		wg.Go(func() { _ = w.Run(ctx) })
	}
	for provider.created.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	wg.Wait()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	// The sent records would expire in ten minutes; do not wait.
	for batch := range slices.Chunk(msgs, 500) {
		del := make([]string, len(batch))
		for i, m := range batch {
			del[i] = keys.SentPrefix + m.ID
		}
		client.Do(context.Background(), client.B().Del().Key(del...).Build())
	}
}

const benchSID = "AC0123456789abcdef0123456789abcdef"

type benchProvider struct {
	*httptest.Server
	created atomic.Int64
}

// newBenchProvider answers every Messages.json POST after delay with 201
// and a message resource, as Twilio does.
func newBenchProvider(b *testing.B, delay time.Duration) *benchProvider {
	p := &benchProvider{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		time.Sleep(delay)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"sid": "SM0123456789abcdef0123456789abcdef", "account_sid": benchSID,
			"to": r.PostForm.Get("To"), "status": "queued", "num_segments": "1",
		})
		p.created.Add(1)
	}))
	b.Cleanup(p.Close)
	return p
}

type nopSender struct{}

func (nopSender) SendSMS(context.Context, domain.SMSMessage) (domain.SMSReceipt, error) {
	return domain.SMSReceipt{Provider: "nop"}, nil
}

func benchKeys(b *testing.B) redis.StreamKeys {
	p := "bench_" + benchRandom(12, "0123456789abcdef") + "_"
	k := redis.StreamKeys{Stream: p + "sms_outbox", SentPrefix: p + "sms_sent:", AttemptsPrefix: p + "sms_attempts:"}.WithDefaults()
	client := redistest.Client(b)
	b.Cleanup(func() {
		client.Do(context.Background(), client.B().Del().Key(k.Stream, k.DeadLetter).Build())
	})
	return k
}

// benchMessages are n distinct messages valid for five minutes.
func benchMessages(b *testing.B, n int) []domain.SMSMessage {
	msgs := make([]domain.SMSMessage, n)
	now := time.Now()
	for i := range msgs {
		to, err := domain.NewPhoneNumber(benchPhone(), "CN", domain.LineMobile)
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = domain.SMSMessage{
			ID: benchRandom(20, "0123456789abcdef"), To: to, CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute),
			Code: domain.SMSCode(benchRandom(6, domain.Digits)),
		}
	}
	return msgs
}

func benchRandom(n int, alphabet string) string {
	s, err := system.Random{}.String(n, alphabet)
	if err != nil {
		panic(err)
	}
	return s
}

// benchPhone returns a number that no benchmark used in the last 1000 s, so
// the 60 s resend interval never refuses one: numbers are counted from the
// current second times 100 000, faster than any benchmark uses them.
func benchPhone() string {
	return fmt.Sprintf("+86139%08d", benchPhones.Add(1)%100_000_000)
}

var benchPhones = func() *atomic.Int64 {
	var n atomic.Int64
	n.Store(time.Now().Unix() % 1000 * 100_000)
	return &n
}()
