package redis_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/redis/redistest"
	"github.com/lemonmall/verifyd/domain"
)

// testKeys returns key names no other test uses, and deletes them when the
// test ends.
func testKeys(t *testing.T, client rueidis.Client) redis.StreamKeys {
	t.Helper()
	p := "test_" + randomHex(t, 12) + "_"
	k := redis.StreamKeys{
		Stream:         p + "sms_outbox",
		SentPrefix:     p + "sms_sent:",
		AttemptsPrefix: p + "sms_attempts:",
	}.WithDefaults()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		client.Do(ctx, client.B().Del().Key(k.Stream, k.DeadLetter).Build())
	})
	return k
}

// testMessage is a message to a random number, created now and valid for
// lifetime.
func testMessage(t *testing.T, lifetime time.Duration) domain.SMSMessage {
	t.Helper()
	to, err := domain.NewPhoneNumber("+86138"+randomDigits(t, 8), "CN", domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	return domain.SMSMessage{
		ID:        randomHex(t, 20),
		To:        to,
		Code:      domain.SMSCode(randomDigits(t, 6)),
		Lang:      domain.Chinese,
		CreatedAt: now,
		ExpiresAt: now.Add(lifetime),
	}
}

func streamEntries(t *testing.T, client rueidis.Client, key string) []rueidis.XRangeEntry {
	t.Helper()
	entries, err := client.Do(t.Context(), client.B().Xrange().Key(key).Start("-").End("+").Build()).AsXRange()
	if err != nil {
		t.Fatalf("XRANGE %s: %v", key, err)
	}
	return entries
}

func TestOutbox_EnqueueAppendsTheMessageForWorkers(t *testing.T) {
	client := redistest.Client(t)
	keys := testKeys(t, client)
	o := redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys})
	msg := testMessage(t, 5*time.Minute)

	if err := o.Enqueue(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	entries := streamEntries(t, client, keys.Stream)
	if len(entries) != 1 {
		t.Fatalf("stream holds %d entries, want 1", len(entries))
	}
	want := map[string]string{
		"id":         msg.ID,
		"to":         msg.To.E164(),
		"region":     "CN",
		"created_at": strconv.FormatInt(msg.CreatedAt.UnixMilli(), 10),
		"expires_at": strconv.FormatInt(msg.ExpiresAt.UnixMilli(), 10),
		"lang":       "zh",
	}
	got := entries[0].FieldValues
	if len(got) != len(want)+1 {
		t.Errorf("entry fields %v, want %v and the sealed code", got, want)
	}
	// Redis only ever sees the code sealed.
	if strings.Contains(got["code"], string(msg.Code)) {
		t.Errorf("code stored in the clear: %q", got["code"])
	}
	if code, err := testSealer.Open(msg.ID, got["code"]); err != nil || code != string(msg.Code) {
		t.Errorf("sealed code opens to %q, %v; want the message code", code, err)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s = %q, want %q", k, got[k], v)
		}
	}
	// The stream key lasts as long as the codes in it.
	wantPTTL(t, client, keys.Stream, 5*time.Minute)
}

// A code does not stay in Redis past its lifetime: each XADD trims the
// older entries, and the key itself expires when messages stop.
func TestOutbox_KeepsNoMessagePastItsLifetime(t *testing.T) {
	client := redistest.Client(t)
	keys := testKeys(t, client)
	o := redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys})

	old := testMessage(t, 200*time.Millisecond)
	if err := o.Enqueue(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	fresh := testMessage(t, time.Minute)
	if err := o.Enqueue(t.Context(), fresh); err != nil {
		t.Fatal(err)
	}
	entries := streamEntries(t, client, keys.Stream)
	if len(entries) != 1 || entries[0].FieldValues["id"] != fresh.ID {
		t.Fatalf("stream holds %v, want only the fresh message", entries)
	}

	// A shorter-lived message does not shorten the key's life.
	if err := o.Enqueue(t.Context(), testMessage(t, time.Second)); err != nil {
		t.Fatal(err)
	}
	wantPTTL(t, client, keys.Stream, time.Minute)

	other := testKeys(t, client)
	short := redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: other})
	if err := short.Enqueue(t.Context(), testMessage(t, 200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the stream key expires with its last code", func() bool {
		n, err := client.Do(t.Context(), client.B().Exists().Key(other.Stream).Build()).AsInt64()
		return err == nil && n == 0
	})
}

func TestOutbox_FullStreamAnswersOutboxFull(t *testing.T) {
	client := redistest.Client(t)
	o := redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: testKeys(t, client), MaxLen: 2})
	for range 2 {
		if err := o.Enqueue(t.Context(), testMessage(t, time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	err := o.Enqueue(t.Context(), testMessage(t, time.Minute))
	if !errors.Is(err, domain.ErrOutboxFull) {
		t.Fatalf("third Enqueue = %v, want ErrOutboxFull", err)
	}
}

func TestOutbox_RefusesMessagesItCannotBound(t *testing.T) {
	client := redistest.Client(t)
	keys := testKeys(t, client)
	o := redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys})
	for name, edit := range map[string]func(*domain.SMSMessage){
		"no id":         func(m *domain.SMSMessage) { m.ID = "" },
		"no recipient":  func(m *domain.SMSMessage) { m.To = domain.PhoneNumber{} },
		"no expiry":     func(m *domain.SMSMessage) { m.ExpiresAt = time.Time{} },
		"no created at": func(m *domain.SMSMessage) { m.CreatedAt = time.Time{} },
		"expiry first":  func(m *domain.SMSMessage) { m.ExpiresAt = m.CreatedAt.Add(-time.Second) },
	} {
		msg := testMessage(t, time.Minute)
		edit(&msg)
		if err := o.Enqueue(t.Context(), msg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := len(streamEntries(t, client, keys.Stream)); n != 0 {
		t.Errorf("stream holds %d entries after refusals", n)
	}
}

func TestOutbox_ClosedClientIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), failFast)
	defer cancel()
	client, err := redis.Dial(ctx, redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	client.Close()
	err = redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer}).Enqueue(ctx, testMessage(t, time.Minute))
	if !errors.Is(err, domain.ErrStoreUnavailable) {
		t.Fatalf("Enqueue on a closed client = %v, want ErrStoreUnavailable", err)
	}
}

func TestNewOutbox_RefusesANilClient(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewOutbox(nil) did not panic")
		}
	}()
	redis.NewOutbox(nil, redis.OutboxOptions{Sealer: testSealer})
}

// eventually polls cond until it holds; the limit only bounds a broken test.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
