package redis

import (
	"context"
	"strings"

	"github.com/redis/rueidis"
)

// QueueDepth reads how much work the SMS stream holds, for metrics.
type QueueDepth struct {
	client rueidis.Client
	keys   StreamKeys
}

// NewQueueDepth reads the stream named by keys; a nil client panics.
func NewQueueDepth(client rueidis.Client, keys StreamKeys) *QueueDepth {
	if client == nil {
		panic("redis: NewQueueDepth needs a non-nil rueidis.Client")
	}
	return &QueueDepth{client: client, keys: keys.WithDefaults()}
}

// Length is the number of entries in the stream: waiting, being sent, or
// sent but not yet acknowledged.
func (q *QueueDepth) Length(ctx context.Context) (float64, error) {
	n, err := q.client.Do(ctx, q.client.B().Xlen().Key(q.keys.Stream).Build()).AsInt64()
	if err != nil {
		return 0, storeError("queue length", err)
	}
	return float64(n), nil
}

// Pending is the number of entries delivered to a worker and not yet
// acknowledged; 0 before any worker created the group.
func (q *QueueDepth) Pending(ctx context.Context) (float64, error) {
	res, err := q.client.Do(ctx, q.client.B().Xpending().Key(q.keys.Stream).Group(q.keys.Group).Build()).ToArray()
	if err != nil {
		if rerr, ok := rueidis.IsRedisErr(err); ok && strings.HasPrefix(rerr.Error(), "NOGROUP") {
			return 0, nil
		}
		return 0, storeError("queue pending", err)
	}
	if len(res) == 0 {
		return 0, nil
	}
	n, err := res[0].AsInt64()
	if err != nil {
		return 0, storeError("queue pending", err)
	}
	return float64(n), nil
}
