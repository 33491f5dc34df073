package redis

import (
	"context"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/domain"
)

// checkIssueScript answers what issueScript would refuse with, writing
// nothing: the ms left on the resend slot KEYS[1], else the ms until every
// (max, window ms) quota from ARGV[1] on has room in the send log KEYS[2],
// else 0. A slot without expiry counts as free here; issueScript repairs and
// refuses it. It writes nothing, so resending it after a dropped
// connection is always safe.
var checkIssueScript = rueidis.NewLuaScriptRetryable(slidingWindowLua + `
local left = redis.call('PTTL', KEYS[1])
if left > 0 then
  return left
end
if #ARGV >= 2 then
  return window_wait(KEYS[2], now, 1)
end
return 0
`)

// CheckIssue reports, changing nothing, whether IssueCode would refuse the
// phone now.
func (s *Store) CheckIssue(ctx context.Context, phone domain.PhoneNumber, quotas []domain.Quota) error {
	args, _, err := quotaArgs(quotas)
	if err != nil {
		return err
	}
	left, err := checkIssueScript.Exec(ctx, s.client,
		[]string{resendKey(phone), sendLogKey(phone)}, args,
	).AsInt64()
	if err != nil {
		return storeError("check issue", err)
	}
	if left > 0 {
		return &domain.ThrottledError{RetryAfter: time.Duration(left) * time.Millisecond}
	}
	return nil
}
