package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/domain"
)

// Defaults for the zero WorkerOptions fields.
const (
	DefaultWorkerConcurrency = 4
	DefaultVisibilityTimeout = 30 * time.Second
	DefaultWorkerMaxAttempts = domain.DefaultSendAttempts
	DefaultWorkerBackoff     = domain.DefaultRetryBackoff
	DefaultWorkerMaxBackoff  = domain.DefaultRetryMaxBackoff
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
	// MaxAttempts bounds the sends of one message, first try included,
	// across every worker that handles it.
	MaxAttempts int
	// Backoff is the wait before the first retry; it doubles for each later
	// retry up to MaxBackoff, each wait jittered to between half and all of
	// that.
	Backoff    time.Duration
	MaxBackoff time.Duration
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
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultWorkerMaxAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultWorkerBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultWorkerMaxBackoff
	}
	o.MaxBackoff = max(o.MaxBackoff, o.Backoff)
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

// ackScript acknowledges entry ARGV[2] of group ARGV[1] on stream KEYS[1] and
// deletes it, in one step, so that no delivered text stays behind.
var ackScript = rueidis.NewLuaScript(`
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
`)

// renewScript sets the idle time of the entries ARGV[4..] of group ARGV[1] on
// stream KEYS[1] to ARGV[3] ms, for those still pending for consumer ARGV[2],
// and returns the ids that are not (acknowledged, or taken by another
// worker). Idle 0 renews a message being worked on; idle = the visibility
// timeout releases it to the next XAUTOCLAIM of any worker.
var renewScript = rueidis.NewLuaScript(`
local lost = {}
for i = 4, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #p == 1 and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
`)

// pruneScript removes from group ARGV[1] of stream KEYS[1] the consumers
// other than ARGV[2] that have nothing pending and have been idle for
// ARGV[3] ms: workers that were killed or stopped after releasing messages.
// Checking and removing in one step means no message can be handed to a
// consumer in between; a live worker removed while idle is recreated by its
// next read.
var pruneScript = rueidis.NewLuaScript(`
local removed = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  if f['name'] ~= ARGV[2] and f['pending'] == 0 and f['idle'] >= tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    removed = removed + 1
  end
end
return removed
`)

// errClaimLost is the cancel cause of a message another worker has taken
// over.
var errClaimLost = errors.New("message taken over by another worker")

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
// a message bounces between dying workers at most MaxAttempts times.
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

// fetch returns up to n entries: those abandoned by dead workers first, when
// a scan for them is due, else new ones, waiting up to Block for them.
func (w *Worker) fetch(ctx context.Context, n int) ([]rueidis.XRangeEntry, error) {
	if !time.Now().Before(w.nextClaim) {
		entries, err := w.reclaim(ctx, n)
		if err != nil || len(entries) > 0 {
			return entries, err
		}
	}
	block := min(w.opt.Block, time.Until(w.nextClaim))
	block = max(block, time.Millisecond)
	// The read is never cut short: a reply lost to a cancelled read would
	// leave its messages pending here until another worker reclaims them.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), block+opTimeout)
	defer cancel()
	cmd := w.client.B().Xreadgroup().Group(w.opt.Keys.Group, w.opt.Consumer).Count(int64(n)).
		Block(block.Milliseconds()).Streams().Key(w.opt.Keys.Stream).Id(">").Build()
	streams, err := w.client.Do(rctx, cmd).AsXRead()
	switch {
	case rueidis.IsRedisNil(err):
		return nil, nil
	case isNoGroup(err):
		return nil, w.ensureGroup(ctx)
	case err != nil:
		return nil, storeError("read sms stream", err)
	}
	return streams[w.opt.Keys.Stream], nil
}

// reclaim continues the scan of the group's pending entries and takes up to
// n of those idle for at least the visibility timeout: their worker died or
// released them.
func (w *Worker) reclaim(ctx context.Context, n int) ([]rueidis.XRangeEntry, error) {
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	defer cancel()
	cmd := w.client.B().Xautoclaim().Key(w.opt.Keys.Stream).Group(w.opt.Keys.Group).Consumer(w.opt.Consumer).
		MinIdleTime(strconv.FormatInt(w.opt.VisibilityTimeout.Milliseconds(), 10)).Start(w.cursor).Count(int64(n)).Build()
	reply, err := w.client.Do(octx, cmd).ToArray()
	if isNoGroup(err) {
		return nil, w.ensureGroup(ctx)
	}
	if err != nil {
		return nil, storeError("reclaim sms", err)
	}
	if len(reply) < 2 {
		return nil, fmt.Errorf("redis: XAUTOCLAIM answered %d elements", len(reply))
	}
	next, err := reply[0].ToString()
	if err != nil {
		return nil, fmt.Errorf("redis: XAUTOCLAIM cursor: %w", err)
	}
	raw, _ := reply[1].ToArray()
	entries := make([]rueidis.XRangeEntry, 0, len(raw))
	for _, m := range raw {
		// Redis 6.2 answers nil for entries trimmed while pending; 7.0
		// drops them from the group and lists them apart.
		if e, err := m.AsXRangeEntry(); err == nil {
			entries = append(entries, e)
		}
	}
	w.cursor = next
	if next == "0-0" {
		w.nextClaim = time.Now().Add(w.claimEvery)
		w.prune(octx)
	}
	for _, e := range entries {
		w.logger.LogAttrs(context.Background(), slog.LevelInfo, "sms worker",
			slog.String("stream_id", e.ID), slog.String("message_id", e.FieldValues[fieldID]),
			slog.String("to", domain.MaskPhone(e.FieldValues[fieldTo])), slog.String("outcome", string(outcomeReclaimed)))
	}
	return entries, nil
}

// prune removes idle consumers without pending messages from the group, at
// most once per visibility timeout.
func (w *Worker) prune(ctx context.Context) {
	if time.Now().Before(w.nextPrune) {
		return
	}
	w.nextPrune = time.Now().Add(w.opt.VisibilityTimeout)
	idle := strconv.FormatInt(w.opt.VisibilityTimeout.Milliseconds(), 10)
	n, err := pruneScript.Exec(ctx, w.client, []string{w.opt.Keys.Stream}, []string{w.opt.Keys.Group, w.opt.Consumer, idle}).AsInt64()
	if err != nil {
		w.logger.Warn("sms worker: cannot prune idle consumers", "error", err.Error())
		return
	}
	if n > 0 {
		w.logger.Info("sms worker: removed idle consumers without pending messages", "removed", n)
	}
}

// ensureGroup creates the consumer group, reading the stream from its
// start, and the stream if missing. It runs at start and again when the
// stream key expired (taking the group along) after messages stopped.
func (w *Worker) ensureGroup(ctx context.Context) error {
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	defer cancel()
	cmd := w.client.B().XgroupCreate().Key(w.opt.Keys.Stream).Group(w.opt.Keys.Group).Id("0").Mkstream().Build()
	err := w.client.Do(octx, cmd).Error()
	if err == nil || rueidis.IsRedisBusyGroup(err) {
		return nil
	}
	return storeError("create consumer group", err)
}

// ensureGroupWaiting retries ensureGroup while Redis is unavailable, until
// ctx ends (then nil: there is nothing to do). Other errors are returned.
func (w *Worker) ensureGroupWaiting(ctx context.Context) error {
	retry := newPacer()
	for {
		err := w.ensureGroup(ctx)
		switch {
		case err == nil, ctx.Err() != nil:
			return nil
		case !errors.Is(err, domain.ErrStoreUnavailable):
			return err
		}
		retry.wait(ctx, w.logger, err)
	}
}

// isNoGroup reports an error meaning the group is gone with its stream key:
// NOGROUP, or UNBLOCKED for a read waiting on the key when it was deleted.
func isNoGroup(err error) bool {
	rerr, ok := rueidis.IsRedisErr(err)
	return ok && (strings.HasPrefix(rerr.Error(), "NOGROUP") || strings.HasPrefix(rerr.Error(), "UNBLOCKED"))
}

// Outcomes only the stream worker has, logged beside the domain's
// delivery outcomes (delivered, retrying, failed, gave_up, expired); the
// observer is told of the domain's only.
const (
	outcomeMalformed domain.DeliveryOutcome = "malformed" // dead-lettered unsent
	outcomeDuplicate domain.DeliveryOutcome = "duplicate" // already delivered: acknowledged unsent
	outcomeReleased  domain.DeliveryOutcome = "released"  // shutdown or Redis trouble: left to any worker
	outcomeLost      domain.DeliveryOutcome = "lost"      // another worker took it over
	outcomeReclaimed domain.DeliveryOutcome = "reclaimed" // taken over from a dead worker
	outcomeTrimmed   domain.DeliveryOutcome = "trimmed"   // its entry was trimmed away
)

// handle takes one entry to an end: delivered, dead-lettered, released or
// lost. soft ending means shutdown: no new attempt starts. hard ending
// cancels the send in flight.
func (w *Worker) handle(soft, hard context.Context, e rueidis.XRangeEntry) {
	ctx, cancel := context.WithCancelCause(hard)
	w.setCancel(e.ID, cancel)
	defer func() {
		w.untrack(e.ID)
		cancel(nil)
	}()

	if e.FieldValues == nil {
		w.ack(ctx, e.ID)
		w.logEntry(slog.LevelWarn, e.ID, domain.SMSMessage{}, 0, outcomeTrimmed, nil)
		return
	}
	msg, err := decodeMessage(e.FieldValues, w.opt.Sealer)
	if err != nil {
		w.deadLetter(ctx, e.ID, msg, 0, "malformed entry: "+err.Error())
		w.logEntry(slog.LevelError, e.ID, msg, 0, outcomeMalformed, err)
		return
	}

	attempt := 0 // sends made so far, by any worker
	for {
		if soft.Err() != nil || ctx.Err() != nil {
			w.release(ctx, e.ID, msg, attempt, nil)
			return
		}
		sent, n, err := w.beginAttempt(ctx, msg)
		if err != nil {
			w.release(ctx, e.ID, msg, attempt, err)
			return
		}
		attempt = n
		switch {
		case sent:
			w.ack(ctx, e.ID)
			w.logEntry(slog.LevelInfo, e.ID, msg, attempt-1, outcomeDuplicate, nil)
			return
		case !w.clock.Now().Before(msg.ExpiresAt):
			w.deadLetter(ctx, e.ID, msg, attempt-1, "expired before delivery")
			w.logEntry(slog.LevelWarn, e.ID, msg, attempt-1, domain.DeliveryExpired, nil)
			return
		case attempt > w.opt.MaxAttempts:
			// The worker making the last attempt died before it knew.
			reason := fmt.Sprintf("gave up after %d attempts; the outcome of the last is unknown", attempt-1)
			w.deadLetter(ctx, e.ID, msg, attempt-1, reason)
			w.logEntry(slog.LevelError, e.ID, msg, attempt-1, domain.DeliveryGaveUp, nil)
			return
		}

		receipt, err := w.sender.SendSMS(ctx, msg)
		provider := domain.SendProvider(receipt, err)
		switch {
		case err == nil:
			w.markSent(ctx, e.ID, msg)
			w.logSend(slog.LevelInfo, e.ID, msg, attempt, domain.DeliveryDelivered, provider, nil)
			return
		case ctx.Err() != nil:
			// Cancelled under the send: the provider may or may not have
			// taken it. Leave it to a worker that is not going away.
			w.release(ctx, e.ID, msg, attempt, err)
			return
		case !domain.IsRetryableSend(err):
			w.deadLetter(ctx, e.ID, msg, attempt, "permanent failure: "+msg.Redact(err.Error()))
			w.logSend(slog.LevelError, e.ID, msg, attempt, domain.DeliveryFailed, provider, err)
			return
		case attempt >= w.opt.MaxAttempts:
			w.deadLetter(ctx, e.ID, msg, attempt, fmt.Sprintf("gave up after %d attempts: %s", attempt, msg.Redact(err.Error())))
			w.logSend(slog.LevelError, e.ID, msg, attempt, domain.DeliveryGaveUp, provider, err)
			return
		}
		w.logSend(slog.LevelWarn, e.ID, msg, attempt, domain.DeliveryRetrying, provider, err)
		sleep(soft, ctx, w.backoff(attempt))
	}
}

// beginAttempt reports whether msg was already delivered and, if not,
// counts one more attempt and returns its number (1-based, across workers).
func (w *Worker) beginAttempt(ctx context.Context, msg domain.SMSMessage) (sent bool, attempt int, err error) {
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	defer cancel()
	attempts := w.opt.Keys.attempts(msg.ID)
	res := w.client.DoMulti(octx,
		w.client.B().Exists().Key(w.opt.Keys.sent(msg.ID)).Build(),
		w.client.B().Incr().Key(attempts).Build(),
		w.client.B().Pexpire().Key(attempts).Milliseconds(millis(w.recordTTL(msg))).Build(),
	)
	exists, err := res[0].AsInt64()
	if err != nil {
		return false, 0, storeError("check sent", err)
	}
	n, err := res[1].AsInt64()
	if err != nil {
		return false, 0, storeError("count attempt", err)
	}
	if err := res[2].Error(); err != nil {
		return false, 0, storeError("expire attempts", err)
	}
	return exists == 1, int(n), nil
}

// recordTTL is how long the sent and attempts records of msg are kept.
func (w *Worker) recordTTL(msg domain.SMSMessage) time.Duration {
	return max(msg.ExpiresAt.Sub(w.clock.Now()), 0) + recordMargin
}

// markSent records the delivery, then acknowledges and deletes the entry.
// The record comes first: a worker dying between the two leaves a message
// that the next worker acknowledges without sending.
func (w *Worker) markSent(ctx context.Context, streamID string, msg domain.SMSMessage) {
	w.retryRedis(ctx, "record sent", func(octx context.Context) error {
		res := w.client.DoMulti(octx,
			w.client.B().Set().Key(w.opt.Keys.sent(msg.ID)).Value("1").Nx().PxMilliseconds(millis(w.recordTTL(msg))).Build(),
			w.client.B().Del().Key(w.opt.Keys.attempts(msg.ID)).Build(),
		)
		for _, r := range res {
			if err := r.Error(); err != nil && !rueidis.IsRedisNil(err) { // nil: SET NX found a record
				return err
			}
		}
		return nil
	})
	w.ack(ctx, streamID)
}

// ack acknowledges and deletes an entry.
func (w *Worker) ack(ctx context.Context, streamID string) {
	w.retryRedis(ctx, "acknowledge", func(octx context.Context) error {
		return ackScript.Exec(octx, w.client, []string{w.opt.Keys.Stream}, []string{w.opt.Keys.Group, streamID}).Error()
	})
}

// deadLetter records why msg was not delivered, without its text, then
// acknowledges and deletes its entry.
func (w *Worker) deadLetter(ctx context.Context, streamID string, msg domain.SMSMessage, attempts int, reason string) {
	fields := func(b rueidis.Builder) rueidis.Completed {
		c := b.Xadd().Key(w.opt.Keys.DeadLetter).Maxlen().Almost().Threshold(strconv.FormatInt(w.opt.DeadLetterMaxLen, 10)).Id("*").
			FieldValue().
			FieldValue(fieldID, msg.ID).
			FieldValue(fieldTo, msg.To.String()).
			FieldValue("reason", reason).
			FieldValue("attempts", strconv.Itoa(attempts)).
			FieldValue("entry", streamID).
			FieldValue("failed_at", strconv.FormatInt(w.clock.Now().UnixMilli(), 10))
		if !msg.CreatedAt.IsZero() {
			c = c.FieldValue(fieldCreatedAt, strconv.FormatInt(msg.CreatedAt.UnixMilli(), 10))
		}
		if !msg.ExpiresAt.IsZero() {
			c = c.FieldValue(fieldExpiresAt, strconv.FormatInt(msg.ExpiresAt.UnixMilli(), 10))
		}
		return c.Build()
	}
	w.retryRedis(ctx, "dead-letter", func(octx context.Context) error {
		cmds := rueidis.Commands{fields(w.client.B())}
		if msg.ID != "" {
			cmds = append(cmds, w.client.B().Del().Key(w.opt.Keys.attempts(msg.ID)).Build())
		}
		for _, r := range w.client.DoMulti(octx, cmds...) {
			if err := r.Error(); err != nil {
				return err
			}
		}
		return nil
	})
	w.ack(ctx, streamID)
}

// release hands an unfinished message back: its idle time is set to the
// visibility timeout, so the next XAUTOCLAIM of any worker takes it. If the
// handler was cancelled because another worker took the message over, it is
// not ours to release.
func (w *Worker) release(ctx context.Context, streamID string, msg domain.SMSMessage, attempt int, cause error) {
	w.untrack(streamID) // no renewal may follow
	if context.Cause(ctx) == errClaimLost {
		w.logEntry(slog.LevelWarn, streamID, msg, attempt, outcomeLost, cause)
		return
	}
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	defer cancel()
	if _, err := w.renew(octx, w.opt.VisibilityTimeout, streamID); err != nil {
		// Still pending here: taken over after the visibility timeout.
		cause = errors.Join(cause, err)
	}
	level := slog.LevelInfo
	if cause != nil {
		level = slog.LevelWarn
	}
	w.logEntry(level, streamID, msg, attempt, outcomeReleased, cause)
}

// renew sets the idle time of the given entries still pending here and
// returns those that are not.
func (w *Worker) renew(ctx context.Context, idle time.Duration, ids ...string) ([]string, error) {
	args := append([]string{w.opt.Keys.Group, w.opt.Consumer, strconv.FormatInt(idle.Milliseconds(), 10)}, ids...)
	lost, err := renewScript.Exec(ctx, w.client, []string{w.opt.Keys.Stream}, args).AsStrSlice()
	if err != nil {
		return nil, storeError("renew sms claims", err)
	}
	return lost, nil
}

// renewLoop keeps the messages in flight here from being reclaimed, every
// third of the visibility timeout, and cancels the handlers of those that
// another worker took over anyway (this one stalled for too long).
func (w *Worker) renewLoop(done <-chan struct{}) {
	t := time.NewTicker(max(w.opt.VisibilityTimeout/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		w.renewInflight()
	}
}

// renewInflight renews every message in flight. It holds the lock across
// the call, so that a handler releasing a message (which untracks it first)
// cannot be overtaken by a renewal that would hide the message again.
func (w *Worker) renewInflight() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.inflight) == 0 {
		return
	}
	ids := make([]string, 0, len(w.inflight))
	for id := range w.inflight {
		ids = append(ids, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	lost, err := w.renew(ctx, 0, ids...)
	if err != nil {
		w.logger.Warn("sms worker: cannot renew messages in flight", "error", err.Error())
		return
	}
	for _, id := range lost {
		if c := w.inflight[id]; c != nil {
			c(errClaimLost)
		}
	}
}

// track registers an entry as in flight; false if it already is.
func (w *Worker) track(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.inflight[id]; ok {
		return false
	}
	w.inflight[id] = nil
	return true
}

func (w *Worker) setCancel(id string, cancel context.CancelCauseFunc) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inflight[id] = cancel
}

func (w *Worker) untrack(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.inflight, id)
}

// leave removes this worker from the group when nothing is pending for it,
// so stopped workers do not pile up in XINFO CONSUMERS. Nothing can become
// pending here any more: the loop has stopped reading.
func (w *Worker) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	k := w.opt.Keys
	pending, err := w.client.Do(ctx, w.client.B().Xpending().Key(k.Stream).Group(k.Group).
		Start("-").End("+").Count(1).Consumer(w.opt.Consumer).Build()).ToArray()
	if err != nil || len(pending) > 0 {
		return
	}
	_ = w.client.Do(ctx, w.client.B().XgroupDelconsumer().Key(k.Stream).Group(k.Group).Consumername(w.opt.Consumer).Build()).Error()
}

// retryRedis runs op a few times while Redis is unavailable. When it still
// fails the entry stays pending and is taken over after the visibility
// timeout, so the worst outcome is a repeated send, never a lost message.
func (w *Worker) retryRedis(ctx context.Context, what string, op func(context.Context) error) {
	wait := 50 * time.Millisecond
	for try := 1; ; try++ {
		octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
		err := op(octx)
		cancel()
		if err == nil {
			return
		}
		if try == 3 {
			w.logger.Error("sms worker: redis "+what+" failed; the message will be redelivered", "error", err.Error())
			return
		}
		time.Sleep(wait)
		wait *= 4
	}
}

// backoff is the wait after failed attempt n (1-based).
func (w *Worker) backoff(n int) time.Duration {
	return domain.RetryBackoff(n, w.opt.Backoff, w.opt.MaxBackoff)
}

// sleep waits for d or until soft or hard ends.
func sleep(soft, hard context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-soft.Done():
	case <-hard.Done():
	}
}

// logEntry writes the one line describing an outcome; attempt is the number
// of sends made so far. It names the phone only masked and never the code.
func (w *Worker) logEntry(level slog.Level, streamID string, msg domain.SMSMessage, attempt int, outcome domain.DeliveryOutcome, err error) {
	w.logSend(level, streamID, msg, attempt, outcome, "", err)
}

// logSend is logEntry naming the provider that answered the send, if any.
func (w *Worker) logSend(level slog.Level, streamID string, msg domain.SMSMessage, attempt int, outcome domain.DeliveryOutcome, provider string, err error) {
	if w.opt.Observer != nil {
		switch outcome {
		case domain.DeliveryDelivered, domain.DeliveryRetrying, domain.DeliveryFailed, domain.DeliveryGaveUp, domain.DeliveryExpired:
			w.opt.Observer.ObserveDelivery(outcome, provider)
		}
	}
	attrs := []slog.Attr{
		slog.String("message_id", msg.ID),
		slog.String("stream_id", streamID),
		slog.String("to", msg.To.String()),
		slog.Int("attempt", attempt),
		slog.String("outcome", string(outcome)),
	}
	if provider != "" {
		attrs = append(attrs, slog.String("provider", provider))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", msg.Redact(err.Error())))
	}
	w.logger.LogAttrs(context.Background(), level, "sms worker", attrs...)
}

// pacer spaces out retries of a failing loop: 100 ms doubling to 5 s, and
// logs the first failure of a run and then one in ten.
type pacer struct {
	delay    time.Duration
	failures int
}

func newPacer() *pacer { return &pacer{delay: 100 * time.Millisecond} }

func (p *pacer) reset() { p.delay, p.failures = 100*time.Millisecond, 0 }

func (p *pacer) wait(ctx context.Context, logger *slog.Logger, err error) {
	if p.failures%10 == 0 {
		logger.Warn("sms worker: redis unavailable, retrying", "error", err.Error(), "failures", p.failures+1)
	}
	p.failures++
	t := time.NewTimer(p.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	p.delay = min(p.delay*2, 5*time.Second)
}
