package redis

// The messages a Worker has in flight: their claims kept alive, their sends
// cancelled when another worker takes one over or shutdown runs out.

import (
	"context"
	"errors"
	"time"
)

// errClaimLost is the cancel cause of a message another worker has taken
// over.
var errClaimLost = errors.New("message taken over by another worker")

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
