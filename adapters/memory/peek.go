package memory

import (
	"context"

	"github.com/lemonmall/verifyd/domain"
)

// CheckIssue reports, changing nothing, whether IssueCode would refuse the
// phone now: the same checks of the resend slot and the quotas, read only.
func (s *Store) CheckIssue(ctx context.Context, phone domain.PhoneNumber, quotas []domain.Quota) error {
	key := phone.E164()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if until, ok := s.slots[key]; ok && !expired(until, now) {
		return &domain.ThrottledError{RetryAfter: retryAfter(until.Sub(now))}
	}
	if d := s.sent[key].wait(now, quotas); d > 0 {
		return &domain.ThrottledError{RetryAfter: retryAfter(d)}
	}
	return nil
}
