package redis

// The stream mechanics of the Worker: reading and reclaiming entries, renewing
// claims, pruning consumers, acknowledging, dead-lettering and releasing.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/domain"
)

// ackScript acknowledges entry ARGV[2] of group ARGV[1] on stream KEYS[1] and
// deletes it, in one step, so that no delivered text stays behind. Run twice
// it finds nothing left to do, so a resend after a dropped connection is safe.
var ackScript = rueidis.NewLuaScriptRetryable(`
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
`)

// renewScript sets the idle time of the entries ARGV[4..] of group ARGV[1] on
// stream KEYS[1] to ARGV[3] ms, for those still pending for consumer ARGV[2],
// and returns the ids that are not (acknowledged, or taken by another
// worker). Idle 0 renews a message being worked on; idle = the visibility
// timeout releases it to the next XAUTOCLAIM of any worker. Run twice it sets
// the same idle times and finds the same entries lost: safe to resend.
var renewScript = rueidis.NewLuaScriptRetryable(`
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
// next read. Run twice it finds those consumers gone: safe to resend.
var pruneScript = rueidis.NewLuaScriptRetryable(`
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
