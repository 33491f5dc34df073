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
  return window_wait(KEYS[2], server_ms(), 1)
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
	var res rueidis.RedisResult
	if len(args) == 0 {
		// Only the slot to read: one command, not a script.
		res = s.client.Do(ctx, s.client.B().Pttl().Key(resendKey(phone)).Build().ToRetryable())
	} else {
		res = checkIssueScript.Exec(ctx, s.client, []string{resendKey(phone), sendLogKey(phone)}, args)
	}
	left, err := res.AsInt64()
	if err != nil {
		return storeError("check issue", err)
	}
	if left > 0 {
		return &domain.ThrottledError{RetryAfter: time.Duration(left) * time.Millisecond}
	}
	return nil
}
