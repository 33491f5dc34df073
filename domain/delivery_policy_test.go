package domain

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestDeliveryPolicy_BeforeSend(t *testing.T) {
	p := DeliveryPolicy{MaxAttempts: 3, Backoff: time.Second, MaxBackoff: time.Minute}
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		n         int
		expiresAt time.Time
		want      DeliveryOutcome
		send      bool
	}{
		{"first attempt of a live code", 1, now.Add(time.Minute), "", true},
		{"last attempt of a live code", 3, now.Add(time.Minute), "", true},
		{"a code without expiry never expires", 2, time.Time{}, "", true},
		{"a code expiring now is not sent", 1, now, DeliveryExpired, false},
		{"an expired code is not sent", 2, now.Add(-time.Second), DeliveryExpired, false},
		{"attempts counted past the last: its sender died", 4, now.Add(time.Minute), DeliveryGaveUp, false},
		{"expiry is said before attempts", 4, now, DeliveryExpired, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, send := p.BeforeSend(tc.n, now, tc.expiresAt)
			if got != tc.want || send != tc.send {
				t.Errorf("BeforeSend(%d) = %q, %v; want %q, %v", tc.n, got, send, tc.want, tc.send)
			}
		})
	}
}

func TestDeliveryPolicy_AfterSend(t *testing.T) {
	p := DeliveryPolicy{MaxAttempts: 3, Backoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	temporary := &SendError{Provider: "fake", Retryable: true, Reason: "unavailable"}
	permanent := &SendError{Provider: "fake", Reason: "invalid number"}
	for _, tc := range []struct {
		name string
		n    int
		err  error
		want DeliveryOutcome
		wait time.Duration // the un-jittered wait when retrying
	}{
		{"success", 1, nil, DeliveryDelivered, 0},
		{"success on the last attempt", 3, nil, DeliveryDelivered, 0},
		{"permanent refusal is not retried", 1, permanent, DeliveryFailed, 0},
		{"wrapped permanent refusal is not retried", 1, fmt.Errorf("send: %w", permanent), DeliveryFailed, 0},
		{"temporary failure is retried", 1, temporary, DeliveryRetrying, 100 * time.Millisecond},
		{"an unclassified error is retried", 2, errors.New("connection reset"), DeliveryRetrying, 200 * time.Millisecond},
		{"a temporary failure of the last attempt gives up", 3, temporary, DeliveryGaveUp, 0},
		{"past the last attempt gives up", 4, temporary, DeliveryGaveUp, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := p.AfterSend(tc.n, tc.err)
			if got.Outcome != tc.want {
				t.Fatalf("AfterSend(%d, %v) = %q, want %q", tc.n, tc.err, got.Outcome, tc.want)
			}
			if got.Wait < tc.wait/2 || got.Wait > tc.wait {
				t.Errorf("wait %v, want within [%v, %v]", got.Wait, tc.wait/2, tc.wait)
			}
		})
	}
}

func TestDeliveryPolicy_WithDefaultsFillsOnlyWhatIsUnset(t *testing.T) {
	d := DefaultDeliveryPolicy()
	for _, tc := range []struct {
		name string
		in   DeliveryPolicy
		want DeliveryPolicy
	}{
		{"zero is the default", DeliveryPolicy{}, d},
		{"negative is unset", DeliveryPolicy{MaxAttempts: -1, Backoff: -time.Second, MaxBackoff: -time.Second}, d},
		{"set fields are kept", DeliveryPolicy{MaxAttempts: 2, Backoff: time.Millisecond}, DeliveryPolicy{2, time.Millisecond, d.MaxBackoff}},
		{"max backoff is raised to backoff", DeliveryPolicy{Backoff: time.Minute, MaxBackoff: time.Second}, DeliveryPolicy{d.MaxAttempts, time.Minute, time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.WithDefaults()
			if got != tc.want {
				t.Errorf("WithDefaults(%+v) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestRetryBackoff_DoublesWithinJitterUpToTheCap(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 10: time.Second} {
		for range 50 {
			got := retryBackoff(n, 100*time.Millisecond, time.Second)
			if got < want/2 || got > want {
				t.Fatalf("attempt %d: %v, want within [%v, %v]", n, got, want/2, want)
			}
		}
	}
}
