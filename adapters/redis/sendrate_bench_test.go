package redis_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/redis/redistest"
	"github.com/lemonmall/verifyd/adapters/smsrate"
	"github.com/lemonmall/verifyd/adapters/smstext"
	"github.com/lemonmall/verifyd/adapters/system"
	"github.com/lemonmall/verifyd/adapters/twiliosms"
	"github.com/lemonmall/verifyd/domain"
)

// BenchmarkWorker_SlowProvider is one worker with the configured default
// concurrency (VERIFY_SMS_WORKERS, 128; 64 for comparison) sending through twilio-go to a local
// provider answering after 50 ms, unpaced and paced by VERIFY_SMS_RATE=500.
// Run it with -cpu 1: worker, twilio-go and the provider then share one core.
// It reports messages/s, the process's CPU time per message and the cores
// that took (CPU time / elapsed time).
func BenchmarkWorker_SlowProvider(b *testing.B) {
	for _, c := range []struct {
		name        string
		concurrency int
		rate        float64
	}{{"concurrency=64", 64, 0}, {"concurrency=128", 128, 0}, {"concurrency=128/rate=500", 128, 500}} {
		b.Run(c.name, func(b *testing.B) { benchmarkSlowProvider(b, c.concurrency, c.rate) })
	}
}

func benchmarkSlowProvider(b *testing.B, concurrency int, rate float64) {
	client := redistest.Client(b)
	keys := benchKeys(b)
	provider := newBenchProvider(b, 50*time.Millisecond)
	text, err := smstext.NewRenderer(smstext.Templates{}, domain.English)
	if err != nil {
		b.Fatal(err)
	}
	tw, err := twiliosms.NewSender(twiliosms.Config{
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
	w := redis.NewWorker(client, smsrate.Limit(tw, rate), system.Clock{}, discard, redis.WorkerOptions{
		Sealer: testSealer, Keys: keys, Block: 100 * time.Millisecond, Concurrency: concurrency,
	})

	b.ResetTimer()
	cpu0 := processCPU(b)
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Run(ctx) })
	for provider.created.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	cpu := processCPU(b) - cpu0
	b.StopTimer()
	cancel()
	wg.Wait()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
	b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "cores")
	for batch := range slices.Chunk(msgs, 500) {
		del := make([]string, len(batch))
		for i, m := range batch {
			del[i] = keys.SentPrefix + m.ID
		}
		client.Do(context.Background(), client.B().Del().Key(del...).Build())
	}
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
