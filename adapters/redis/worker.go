package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/domain"
)

// Defaults for the zero WorkerOptions fields.
const (
	DefaultWorkerConcurrency = 4
	DefaultVisibilityTimeout = 30 * time.Second
	DefaultWorkerBlock       = 2 * time.Second
	DefaultWorkerShutdown    = 10 * time.Second
	DefaultDeadLetterMaxLen  = 10_000
)

// opTimeout bounds each Redis call the worker makes outside a blocking read.
const opTimeout = 5 * time.Second

// recordMargin is how long the sent and attempts records outlive the
// message's expiry, so that clock skew between workers cannot let a late
// redelivery slip past them.
const recordMargin = 5 * time.Minute

// WorkerOptions configures a Worker; zero fields take the defaults.
type WorkerOptions struct {
	Keys StreamKeys
	// Sealer opens the codes the Outbox sealed; required, with the same
	// secret.
	Sealer *Sealer
	// Consumer names this worker in the group; the default is
	// host-pid-random, unique per process. Names must not be shared by
	// two live workers.
	Consumer string
	// Concurrency is how many messages one worker sends at once.
	Concurrency int
	// VisibilityTimeout is how long a message taken by a worker that stopped
	// answering stays invisible to the others. A live worker renews its
	// messages every third of it, so a long send or backoff never exceeds it.
	VisibilityTimeout time.Duration
	// Policy decides retries and expiry; its zero fields take
	// domain.DefaultDeliveryPolicy's. Its MaxAttempts counts the sends of
	// one message across every worker that handles it.
	Policy domain.DeliveryPolicy
	// Block is the longest a read waits for new messages; shutdown waits for
	// the read in progress, so keep it short.
	Block time.Duration
	// ShutdownTimeout is how long sends in flight may take once Run's ctx
	// is cancelled; then they are cancelled and their messages released.
	ShutdownTimeout time.Duration
	// DeadLetterMaxLen caps the dead-letter stream (approximately).
	DeadLetterMaxLen int64
	// Observer, if set, is told of the outcomes the log records that
	// domain.DeliveryOutcome names.
	Observer domain.DeliveryObserver
}

func (o WorkerOptions) withDefaults() WorkerOptions {
	o.Keys = o.Keys.WithDefaults()
	if o.Consumer == "" {
		o.Consumer = defaultConsumer()
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultWorkerConcurrency
	}
	if o.VisibilityTimeout <= 0 {
		o.VisibilityTimeout = DefaultVisibilityTimeout
	}
	o.Policy = o.Policy.WithDefaults()
	if o.Block <= 0 {
		o.Block = DefaultWorkerBlock
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultWorkerShutdown
	}
	// A read must end well before the shutdown deadline, and BLOCK 0 would
	// mean forever.
	o.Block = max(min(o.Block, o.ShutdownTimeout/2, o.VisibilityTimeout/2), time.Millisecond)
	if o.DeadLetterMaxLen <= 0 {
		o.DeadLetterMaxLen = DefaultDeadLetterMaxLen
	}
	return o
}

func defaultConsumer() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "smsworker"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Worker sends the messages an Outbox appended to a Redis stream. Workers
// share the stream through a consumer group, so any number of them, on any
// number of machines, split the messages.
//
// Delivery is at least once: a message is acknowledged (and deleted) only
// after the provider accepted it or it was dead-lettered, and a message whose
// worker died is taken over after the visibility timeout. A success is
// recorded before the acknowledgement and checked before every send, so a
// message is sent twice only when the outcome of a send was lost: its worker
// died, stalled past the visibility timeout or was cut off by shutdown
// mid-send. Retryable failures are retried in the worker with exponential
// backoff, renewing the claim meanwhile (re-pending them instead would make
// the visibility timeout the backoff); the attempt count lives in Redis, so
// a message bounces between dying workers at most Policy.MaxAttempts times.
type Worker struct {
	client rueidis.Client
	sender domain.SMSSender
	clock  domain.Clock
	logger *slog.Logger
	opt    WorkerOptions

	claimEvery time.Duration
	cursor     string    // XAUTOCLAIM cursor; "0-0" starts a new scan
	nextClaim  time.Time // when the next scan starts; the loop goroutine only
	nextPrune  time.Time // when idle consumers may next be pruned; likewise

	mu       sync.Mutex
	inflight map[string]context.CancelCauseFunc // stream entry id -> its handler
}

// NewWorker returns a Worker reading opts.Keys.Stream through client, which
// the caller keeps and closes, and sending through sender. client, sender
// and clock are required; a nil logger means slog.Default().
func NewWorker(client rueidis.Client, sender domain.SMSSender, clock domain.Clock, logger *slog.Logger, opts WorkerOptions) *Worker {
	if client == nil {
		panic("redis: NewWorker needs a non-nil rueidis.Client")
	}
	if sender == nil {
		panic("redis: NewWorker needs a non-nil domain.SMSSender")
	}
	if clock == nil {
		panic("redis: NewWorker needs a non-nil domain.Clock")
	}
	if opts.Sealer == nil {
		panic("redis: NewWorker needs a Sealer to open message codes")
	}
	if logger == nil {
		logger = slog.Default()
	}
	opts = opts.withDefaults()
	return &Worker{
		client:     client,
		sender:     sender,
		clock:      clock,
		logger:     logger.With(slog.String("consumer", opts.Consumer)),
		opt:        opts,
		claimEvery: max(opts.VisibilityTimeout/4, 10*time.Millisecond),
		cursor:     "0-0",
		inflight:   make(map[string]context.CancelCauseFunc),
	}
}

// Options returns the options in effect, defaults filled in.
func (w *Worker) Options() WorkerOptions { return w.opt }

// Run takes and sends messages until ctx is cancelled. It then stops taking
// messages, gives the sends in flight up to ShutdownTimeout to finish,
// releases every message it has not finished (another worker takes it at
// once) and returns nil. Redis outages are logged and waited out; only a
// failure to create the consumer group other than an outage (the stream key
// holds something else) ends Run early, with that error.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.ensureGroupWaiting(ctx); err != nil {
		return err
	}
	w.logger.Info("sms worker started", "stream", w.opt.Keys.Stream, "group", w.opt.Keys.Group,
		"concurrency", w.opt.Concurrency, "visibility_timeout", w.opt.VisibilityTimeout.String())

	// hard is what sends get: it outlives ctx by ShutdownTimeout.
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	stopDeadline := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(w.opt.ShutdownTimeout, cancelHard)
		context.AfterFunc(hard, func() { t.Stop() })
	})
	defer stopDeadline()

	renewDone := make(chan struct{})
	var renewer sync.WaitGroup
	renewer.Go(func() { w.renewLoop(renewDone) })

	var handlers sync.WaitGroup
	slots := make(chan struct{}, w.opt.Concurrency)
	w.nextClaim = time.Now()
	retry := newPacer()
	for ctx.Err() == nil {
		n := acquire(ctx, slots)
		if n == 0 {
			break
		}
		entries, err := w.fetch(ctx, n)
		if err != nil {
			for range n {
				<-slots
			}
			retry.wait(ctx, w.logger, err)
			continue
		}
		retry.reset()
		for _, e := range entries {
			if n == 0 {
				break
			}
			n--
			if !w.track(e.ID) {
				<-slots // already being handled here: XAUTOCLAIM renewed it
				continue
			}
			handlers.Go(func() {
				defer func() { <-slots }()
				w.handle(ctx, hard, e)
			})
		}
		for range n {
			<-slots
		}
	}

	// Said before waiting, so an operator (and a test) can tell a worker
	// finishing its sends from one that hangs.
	w.logger.Info("sms worker draining", "in_flight", len(slots))
	handlers.Wait()
	close(renewDone)
	renewer.Wait()
	w.leave()
	w.logger.Info("sms worker stopped")
	return nil
}

// acquire blocks for one free slot, then takes up to all free ones without
// waiting, and returns how many it took: 0 when ctx ended first. Reading only
// as many messages as there are free slots keeps messages from waiting,
// taken but unsent, behind busy ones.
func acquire(ctx context.Context, slots chan struct{}) int {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for n < cap(slots) {
		select {
		case slots <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}
