package outboxtest

// The fakes a subtest's outbox is built with, and what the suite reads back
// from them: sends, observed outcomes and log lines.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// script answers send n (1-based, per message id) of msg; nil is success.
type script func(ctx context.Context, msg domain.SMSMessage, n int) error

// sender records every send and answers with its script.
type sender struct {
	script script

	mu    sync.Mutex
	calls map[string]int // message id -> sends
	msgs  []domain.SMSMessage
}

func (s *sender) SendSMS(ctx context.Context, msg domain.SMSMessage) (domain.SMSReceipt, error) {
	s.mu.Lock()
	s.calls[msg.ID]++
	n := s.calls[msg.ID]
	s.msgs = append(s.msgs, msg)
	s.mu.Unlock()
	if s.script != nil {
		if err := s.script(ctx, msg, n); err != nil {
			return domain.SMSReceipt{}, err
		}
	}
	return domain.SMSReceipt{Provider: "fake"}, nil
}

func (s *sender) callsFor(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

func (s *sender) sent() []domain.SMSMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// observer counts outcomes, as the metrics adapter does, and signals each
// final one on final.
type observer struct {
	final chan struct{}

	mu        sync.Mutex
	counts    map[domain.DeliveryOutcome]int
	providers map[domain.DeliveryOutcome][]string
}

func (o *observer) ObserveDelivery(outcome domain.DeliveryOutcome, provider string) {
	o.mu.Lock()
	o.counts[outcome]++
	if o.providers == nil {
		o.providers = map[domain.DeliveryOutcome][]string{}
	}
	o.providers[outcome] = append(o.providers[outcome], provider)
	o.mu.Unlock()
	if outcome != domain.DeliveryRetrying {
		o.final <- struct{}{}
	}
}

func (o *observer) snapshot() map[domain.DeliveryOutcome]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.counts)
}

func (o *observer) providersOf(outcome domain.DeliveryOutcome) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.providers[outcome])
}

// clock only moves when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// wantLines checks the log lines of msg that name a domain.DeliveryOutcome,
// in order, each given as "outcome@attempt", and that each names the phone
// masked. Lines of outcomes only an adapter has (a reclaimed stream entry)
// are left out.
func (f *fixture) wantLines(t *testing.T, msg domain.SMSMessage, want ...string) {
	t.Helper()
	var got []string
	sc := bufio.NewScanner(strings.NewReader(f.logs.String()))
	for sc.Scan() {
		var line struct {
			MessageID string `json:"message_id"`
			To        string `json:"to"`
			Attempt   int    `json:"attempt"`
			Outcome   string `json:"outcome"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, sc.Text())
		}
		if line.MessageID != msg.ID || !isDeliveryOutcome(line.Outcome) {
			continue
		}
		if line.To != msg.To.String() {
			t.Errorf("log line names %q, want the masked %q: %s", line.To, msg.To.String(), sc.Text())
		}
		got = append(got, fmt.Sprintf("%s@%d", line.Outcome, line.Attempt))
	}
	if !slices.Equal(got, want) {
		t.Errorf("message %s logged %q, want %q", msg.ID, got, want)
	}
}

func isDeliveryOutcome(s string) bool {
	switch domain.DeliveryOutcome(s) {
	case domain.DeliveryDelivered, domain.DeliveryRetrying, domain.DeliveryFailed,
		domain.DeliveryGaveUp, domain.DeliveryExpired, domain.DeliveryDropped:
		return true
	}
	return false
}

// wantLogsClean checks that no code and no full number of a message made
// was logged. A code is 6 digits: it is looked for as a token of its own,
// not inside a timestamp or an id.
func (f *fixture) wantLogsClean(t *testing.T) {
	t.Helper()
	logs := f.logs.String()
	f.mu.Lock()
	made := slices.Clone(f.made)
	f.mu.Unlock()
	for _, m := range made {
		if regexp.MustCompile(`(^|[^0-9A-Za-z])` + string(m.Code) + `([^0-9A-Za-z]|$)`).MatchString(logs) {
			t.Errorf("the code of message %s is in the logs", m.ID)
		}
		if strings.Contains(logs, m.To.E164()[1:]) {
			t.Errorf("the full number of message %s is in the logs", m.ID)
		}
	}
}

func randomDigits(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	for i := range b {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			t.Fatal(err)
		}
		b[i] = byte('0' + d.Int64())
	}
	return string(b)
}
