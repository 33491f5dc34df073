package memory

import (
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// eventLog is a sliding-window log: the times of recent events, oldest first,
// kept as long as the longest window needs them.
type eventLog []time.Time

// wait returns how long until every quota has room for one more event at now,
// or zero when all have room already.
func (l eventLog) wait(now time.Time, quotas []domain.Quota) time.Duration {
	var longest time.Duration
	for _, q := range quotas {
		// Events in the window (now-q.Window, now], oldest first.
		from := now.Add(-q.Window)
		first := len(l)
		for i, t := range l {
			if t.After(from) {
				first = i
				break
			}
		}
		inWindow := l[first:]
		if len(inWindow) < q.Max {
			continue
		}
		// Room returns when the event that makes the count reach Max leaves.
		leaves := inWindow[len(inWindow)-q.Max].Add(q.Window)
		if d := leaves.Sub(now); d > longest {
			longest = d
		}
	}
	return longest
}

// add records an event at now and forgets events older than keep.
func (l eventLog) add(now time.Time, keep time.Duration) eventLog {
	l = append(l, now)
	from := now.Add(-keep)
	i := 0
	for i < len(l) && !l[i].After(from) {
		i++
	}
	return l[i:]
}

// longestWindow is how long a log must remember events for quotas.
func longestWindow(quotas []domain.Quota) time.Duration {
	var d time.Duration
	for _, q := range quotas {
		d = max(d, q.Window)
	}
	return d
}
