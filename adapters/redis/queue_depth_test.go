package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/redis/redistest"
	"github.com/lemonmall/verifyd/domain"
)

func TestQueueDepth_CountsWaitingAndPendingMessages(t *testing.T) {
	client := redistest.Client(t)
	keys := redis.StreamKeys{Stream: "test_depth_" + randomHex(t, 8)}.WithDefaults()
	t.Cleanup(func() {
		client.Do(context.Background(), client.B().Del().Key(keys.Stream).Build())
	})
	depth := redis.NewQueueDepth(client, keys)
	if n, err := depth.Pending(t.Context()); err != nil || n != 0 {
		t.Fatalf("pending before any group: %v, %v; want 0", n, err)
	}
	outbox := redis.NewOutbox(client, redis.OutboxOptions{Sealer: testSealer, Keys: keys})
	phone, _ := domain.NewPhoneNumber("+8613800138000", "CN", domain.LineMobile)
	for i := range 3 {
		msg := domain.SMSMessage{ID: randomHex(t, 8), To: phone, Code: "123456", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute)}
		if err := outbox.Enqueue(t.Context(), msg); err != nil {
			t.Fatalf("enqueue %d: %v", i, err)
		}
	}
	if n, err := depth.Length(t.Context()); err != nil || n != 3 {
		t.Fatalf("length %v, %v; want 3", n, err)
	}
	// A consumer takes two without acknowledging them.
	client.Do(t.Context(), client.B().XgroupCreate().Key(keys.Stream).Group(keys.Group).Id("0").Build())
	client.Do(t.Context(), client.B().Xreadgroup().Group(keys.Group, "c1").Count(2).Streams().Key(keys.Stream).Id(">").Build())
	if n, err := depth.Pending(t.Context()); err != nil || n != 2 {
		t.Fatalf("pending %v, %v; want 2", n, err)
	}
}
