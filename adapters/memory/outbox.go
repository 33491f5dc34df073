package memory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// Defaults for the zero OutboxConfig fields.
const (
	DefaultOutboxWorkers   = 4
	DefaultOutboxQueueSize = 1024
)

// OutboxConfig sizes an Outbox. Zero (or negative) fields take the defaults.
type OutboxConfig struct {
	// Workers is how many messages are sent concurrently.
	Workers int
	// QueueSize is how many accepted messages may wait for a worker; Enqueue
	// refuses more.
	QueueSize int
	// Policy decides retries and expiry; its zero fields take
	// domain.DefaultDeliveryPolicy's.
	Policy domain.DeliveryPolicy
	// Observer, if set, is told of every outcome the log records.
	Observer domain.DeliveryObserver
}

func (c OutboxConfig) withDefaults() OutboxConfig {
	if c.Workers <= 0 {
		c.Workers = DefaultOutboxWorkers
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultOutboxQueueSize
	}
	c.Policy = c.Policy.WithDefaults()
	return c
}

// Outbox is an in-process domain.SMSOutbox: a bounded queue served by a fixed
// pool of workers that send with retries. Accepted messages live only in
// memory, so a crash loses them; a Close drains them.
type Outbox struct {
	sender domain.SMSSender
	clock  domain.Clock
	logger *slog.Logger
	cfg    OutboxConfig

	mu     sync.RWMutex // guards closed and sends on queue against close(queue)
	closed bool
	queue  chan domain.SMSMessage

	closeOnce sync.Once
	draining  chan struct{} // closed by Close: retries stop waiting
	// sendCtx is what SendSMS gets; abort cancels it when Close gives up.
	sendCtx context.Context
	abort   context.CancelFunc
	stopped chan struct{} // closed when every worker has returned
}

var _ domain.SMSOutbox = (*Outbox)(nil)

// NewOutbox starts cfg.Workers workers sending through sender; Close stops
// them. sender and clock are required; a nil logger means slog.Default().
func NewOutbox(sender domain.SMSSender, clock domain.Clock, logger *slog.Logger, cfg OutboxConfig) *Outbox {
	if sender == nil {
		panic("memory.NewOutbox: nil sender")
	}
	if clock == nil {
		panic("memory.NewOutbox: nil clock")
	}
	if logger == nil {
		logger = slog.Default()
	}
	cfg = cfg.withDefaults()
	sendCtx, abort := context.WithCancel(context.Background())
	o := &Outbox{
		sender:   sender,
		clock:    clock,
		logger:   logger,
		cfg:      cfg,
		queue:    make(chan domain.SMSMessage, cfg.QueueSize),
		draining: make(chan struct{}),
		sendCtx:  sendCtx,
		abort:    abort,
		stopped:  make(chan struct{}),
	}
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Go(o.work)
	}
	go func() {
		wg.Wait()
		abort() // release the context's resources
		close(o.stopped)
	}()
	return o
}

// Enqueue accepts msg for background delivery without waiting for the
// provider. ctx is not used for the send: the request that enqueues is over
// long before the message is delivered. When the queue is full or the outbox
// is closed it returns an error wrapping domain.ErrOutboxFull.
func (o *Outbox) Enqueue(_ context.Context, msg domain.SMSMessage) error {
	if msg.To.IsZero() {
		return errors.New("memory outbox: message has no recipient")
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.closed {
		return fmt.Errorf("memory outbox: closed: %w", domain.ErrOutboxFull)
	}
	select {
	case o.queue <- msg:
		return nil
	default:
		return fmt.Errorf("memory outbox: queue of %d is full: %w", o.cfg.QueueSize, domain.ErrOutboxFull)
	}
}

// Close stops accepting messages and waits until the workers have attempted
// every message already accepted, or until ctx is done. Retries waiting for
// their backoff are attempted once more at once instead. If ctx ends first,
// Close cancels the sends in flight, drops what is left (logging each
// message) and returns an error wrapping ctx.Err(). Close may be called more
// than once.
func (o *Outbox) Close(ctx context.Context) error {
	o.closeOnce.Do(func() {
		o.mu.Lock()
		o.closed = true
		close(o.queue)
		o.mu.Unlock()
		close(o.draining)
	})
	select {
	case <-o.stopped:
		return nil
	case <-ctx.Done():
		o.abort()
		return fmt.Errorf("memory outbox: close: %w", ctx.Err())
	}
}

func (o *Outbox) work() {
	for msg := range o.queue {
		o.deliver(msg)
	}
}

// deliver sends msg until the delivery policy calls an end, waiting out its
// backoffs. Shutdown cuts a wait short and makes the next attempt the last.
func (o *Outbox) deliver(msg domain.SMSMessage) {
	last := false // set once shutdown turned the next attempt into the last
	for attempt := 1; ; attempt++ {
		if o.sendCtx.Err() != nil {
			o.log(msg, attempt-1, domain.DeliveryDropped, "", nil)
			return
		}
		if final, send := o.cfg.Policy.BeforeSend(attempt, o.clock.Now(), msg.ExpiresAt); !send {
			o.log(msg, attempt-1, final, "", nil)
			return
		}

		receipt, err := o.sender.SendSMS(o.sendCtx, msg)
		step := o.cfg.Policy.AfterSend(attempt, err)
		if last && step.Outcome == domain.DeliveryRetrying {
			step.Outcome = domain.DeliveryGaveUp
		}
		o.log(msg, attempt, step.Outcome, domain.SendProvider(receipt, err), err)
		if step.Outcome != domain.DeliveryRetrying {
			return
		}
		if !o.wait(step.Wait) {
			last = true
		}
	}
}

// wait sleeps for d and reports whether it did; it returns false at once when
// the outbox is shutting down.
func (o *Outbox) wait(d time.Duration) bool {
	select {
	case <-o.draining:
		return false
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-o.draining:
		return false
	}
}

// log writes the one line describing an outcome; attempt is the number of
// sends made so far (0 when a message expired or was dropped before its
// first). It names the phone only masked and never the code; provider is the
// one that answered the last send, "" when none did.
func (o *Outbox) log(msg domain.SMSMessage, attempt int, outcome domain.DeliveryOutcome, provider string, err error) {
	if o.cfg.Observer != nil {
		o.cfg.Observer.ObserveDelivery(outcome, provider)
	}
	level := logLevel(outcome)
	if !o.logger.Enabled(context.Background(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("message_id", msg.ID),
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
	o.logger.LogAttrs(context.Background(), level, "sms outbox", attrs...)
}

// logLevel is how loud an outcome is: a lost message is an error, a
// retry or an expired code a warning.
func logLevel(outcome domain.DeliveryOutcome) slog.Level {
	switch outcome {
	case domain.DeliveryDelivered:
		return slog.LevelInfo
	case domain.DeliveryRetrying, domain.DeliveryExpired:
		return slog.LevelWarn
	}
	return slog.LevelError
}
