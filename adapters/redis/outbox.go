package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/domain"
)

// Default names of the SMS queue's keys. A stream lives on one node, so in
// Redis Cluster the whole queue is served by the node owning DefaultStream's
// slot; the per-message keys spread over the cluster.
const (
	DefaultStream         = "sms_outbox"
	DefaultGroup          = "smsworker"
	DefaultSentPrefix     = "sms_sent:"
	DefaultAttemptsPrefix = "sms_attempts:"
	deadLetterSuffix      = "_dead"
)

// DefaultOutboxMaxLen is how many messages the stream may hold before
// Enqueue refuses more.
const DefaultOutboxMaxLen = 100_000

// StreamKeys names the Redis keys of one SMS queue. The zero value means the
// defaults; tests set their own names so that they never share a queue.
type StreamKeys struct {
	// Stream holds the waiting messages (DefaultStream).
	Stream string
	// DeadLetter holds what could not be delivered, without message text
	// (Stream + "_dead").
	DeadLetter string
	// Group is the consumer group the workers share (DefaultGroup).
	Group string
	// SentPrefix + message id marks a message the provider accepted
	// (DefaultSentPrefix).
	SentPrefix string
	// AttemptsPrefix + message id counts sends across workers
	// (DefaultAttemptsPrefix).
	AttemptsPrefix string
}

// WithDefaults fills the empty names.
func (k StreamKeys) WithDefaults() StreamKeys {
	if k.Stream == "" {
		k.Stream = DefaultStream
	}
	if k.DeadLetter == "" {
		k.DeadLetter = k.Stream + deadLetterSuffix
	}
	if k.Group == "" {
		k.Group = DefaultGroup
	}
	if k.SentPrefix == "" {
		k.SentPrefix = DefaultSentPrefix
	}
	if k.AttemptsPrefix == "" {
		k.AttemptsPrefix = DefaultAttemptsPrefix
	}
	return k
}

func (k StreamKeys) sent(id string) string     { return k.SentPrefix + id }
func (k StreamKeys) attempts(id string) string { return k.AttemptsPrefix + id }

// Fields of a stream entry. Times are Unix milliseconds.
const (
	fieldID        = "id"
	fieldTo        = "to"
	fieldRegion    = "region"
	fieldCode      = "code" // sealed
	fieldLang      = "lang"
	fieldCreatedAt = "created_at"
	fieldExpiresAt = "expires_at"
)

// OutboxOptions configures an Outbox; zero fields take the defaults.
type OutboxOptions struct {
	Keys StreamKeys
	// Sealer encrypts message codes; required.
	Sealer *Sealer
	// MaxLen is how many entries the stream may hold (waiting and in
	// flight) before Enqueue answers domain.ErrOutboxFull: with no worker
	// running, requests get 503 instead of filling Redis.
	MaxLen int64
}

// enqueueScript appends a message to the stream KEYS[1]. ARGV[1] is the
// message's lifetime in ms, ARGV[2] the most entries the stream may hold
// (false is returned instead of adding one more), ARGV[3..] the field/value
// pairs. In the same step it first trims the entries older than that
// lifetime (XTRIM MINID, by the server's clock, which also stamps entry ids),
// so a code does not stay in Redis past its expiry while messages keep
// coming, and afterwards extends the key's own expiry to the lifetime, so the
// last codes go too when messages stop. The expiry only grows: a message with
// a shorter lifetime never cuts a longer one short. It is retryable: should a
// repeat after a dropped connection add the message twice, the worker sends
// a message id once (its sent marker).
var enqueueScript = rueidis.NewLuaScriptRetryable(`
local lifetime = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('XTRIM', KEYS[1], 'MINID', tostring(now - lifetime))
  if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[2]) then
    return false
  end
end
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
local left = redis.call('PTTL', KEYS[1])
if left < lifetime then
  redis.call('PEXPIRE', KEYS[1], lifetime)
end
return id
`)

// Outbox implements domain.SMSOutbox on a Redis stream: Enqueue only appends
// the message (XADD) and a Worker, usually in the smsworker process, sends it.
// Accepted messages survive a restart of either side.
type Outbox struct {
	client rueidis.Client
	sealer *Sealer
	keys   StreamKeys
	maxLen int64
}

var _ domain.SMSOutbox = (*Outbox)(nil)

// NewOutbox returns an Outbox writing to opts.Keys.Stream through client,
// which the caller keeps and closes. A nil client or sealer panics.
func NewOutbox(client rueidis.Client, opts OutboxOptions) *Outbox {
	if client == nil {
		panic("redis: NewOutbox needs a non-nil rueidis.Client")
	}
	if opts.Sealer == nil {
		panic("redis: NewOutbox needs a Sealer: messages hold codes")
	}
	if opts.MaxLen <= 0 {
		opts.MaxLen = DefaultOutboxMaxLen
	}
	return &Outbox{client: client, sealer: opts.Sealer, keys: opts.Keys.WithDefaults(), maxLen: opts.MaxLen}
}

// Enqueue appends msg to the stream. It needs an id, a recipient and an
// ExpiresAt after CreatedAt: the lifetime bounds how long the sealed code
// stays in Redis. A full stream answers an error wrapping domain.ErrOutboxFull; an
// unreachable Redis one wrapping domain.ErrStoreUnavailable.
func (o *Outbox) Enqueue(ctx context.Context, msg domain.SMSMessage) error {
	switch {
	case msg.ID == "":
		return errors.New("redis outbox: message has no id")
	case msg.To.IsZero():
		return errors.New("redis outbox: message has no recipient")
	case msg.CreatedAt.IsZero() || !msg.ExpiresAt.After(msg.CreatedAt):
		return errors.New("redis outbox: message needs a CreatedAt and a later ExpiresAt")
	}
	sealed, err := o.sealer.Seal(msg.ID, string(msg.Code))
	if err != nil {
		return err
	}
	args := []string{
		formatMillis(msg.ExpiresAt.Sub(msg.CreatedAt)),
		strconv.FormatInt(o.maxLen, 10),
		fieldID, msg.ID,
		fieldTo, msg.To.E164(),
		fieldRegion, msg.To.Region(),
		fieldCode, sealed,
		fieldLang, string(msg.Lang),
		fieldCreatedAt, strconv.FormatInt(msg.CreatedAt.UnixMilli(), 10),
		fieldExpiresAt, strconv.FormatInt(msg.ExpiresAt.UnixMilli(), 10),
	}
	err = enqueueScript.Exec(ctx, o.client, []string{o.keys.Stream}, args).Error()
	if rueidis.IsRedisNil(err) {
		return fmt.Errorf("redis outbox: %s holds %d messages: %w", o.keys.Stream, o.maxLen, domain.ErrOutboxFull)
	}
	if err != nil {
		return storeError("enqueue sms", err)
	}
	return nil
}

// decodeMessage reads a stream entry back into a message. Entries this
// package did not write are reported as errors, never sent.
func decodeMessage(fields map[string]string, sealer *Sealer) (domain.SMSMessage, error) {
	id := fields[fieldID]
	if id == "" {
		return domain.SMSMessage{}, errors.New("entry has no id")
	}
	to, err := domain.NewPhoneNumber(fields[fieldTo], fields[fieldRegion], domain.LineUnknown)
	if err != nil {
		return domain.SMSMessage{ID: id}, errors.New("entry has no valid recipient")
	}
	created, err1 := strconv.ParseInt(fields[fieldCreatedAt], 10, 64)
	expires, err2 := strconv.ParseInt(fields[fieldExpiresAt], 10, 64)
	if err1 != nil || err2 != nil {
		return domain.SMSMessage{ID: id, To: to}, errors.New("entry has no valid created_at and expires_at")
	}
	sealed, ok := fields[fieldCode]
	if !ok || sealed == "" {
		return domain.SMSMessage{ID: id, To: to}, errors.New("entry has no code")
	}
	code, err := sealer.Open(id, sealed)
	if err != nil {
		return domain.SMSMessage{ID: id, To: to}, fmt.Errorf("entry code: %w", err)
	}
	return domain.SMSMessage{
		ID:        id,
		To:        to,
		Code:      domain.SMSCode(code),
		Lang:      domain.Language(fields[fieldLang]),
		CreatedAt: time.UnixMilli(created),
		ExpiresAt: time.UnixMilli(expires),
	}, nil
}
