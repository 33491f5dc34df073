package domain

import (
	"context"
	"time"
)

// ChallengeStore keeps captcha answers until they are used once or expire.
type ChallengeStore interface {
	// SaveChallenge stores answer under id for ttl, replacing any earlier one.
	SaveChallenge(ctx context.Context, id ChallengeID, answer string, ttl time.Duration) error
	// TakeChallenge returns the answer and removes it in one atomic step, so
	// one answer can be used once; ErrChallengeNotFound when absent.
	TakeChallenge(ctx context.Context, id ChallengeID) (string, error)
}

// NewCode is what a CodeStore keeps about a freshly issued SMS code: never the
// code itself, only a keyed digest of it.
type NewCode struct {
	Digest []byte
	// TTL is how long the code stays valid.
	TTL time.Duration
	// ResendInterval is how long the phone must wait before another code.
	ResendInterval time.Duration
	// Quotas bound how many codes the phone may get in longer windows. They
	// are checked and counted in the same step as the resend interval.
	Quotas []Quota
}

// CodeStore keeps SMS code digests and the per-phone resend slot.
type CodeStore interface {
	// IssueCode claims the phone's resend slot and a place in each of its
	// quotas and, only if all succeed, stores the code with a fresh attempt
	// counter, replacing any earlier code, all in one atomic step. If the slot
	// is taken or a quota is full it stores nothing and returns a
	// *ThrottledError.
	IssueCode(ctx context.Context, phone PhoneNumber, code NewCode) error
	// CheckIssue tells, changing nothing, whether IssueCode would refuse the
	// phone now: a *ThrottledError while its resend slot is taken or one of
	// quotas is full, nil otherwise. It lets a caller refuse early, before it
	// spends anything of the client's; nil promises nothing, since IssueCode
	// decides again, atomically.
	CheckIssue(ctx context.Context, phone PhoneNumber, quotas []Quota) error
	// AttemptCode counts one verification attempt before any comparison and
	// returns the stored digest. The attempt after the maxAttempts-th burns
	// the code: it and every later attempt, whatever their limit, get
	// ErrCodeNotFound, as when there is no live code. A burned code is not
	// deleted but kept until it expires, is consumed or is replaced, so an
	// attempt counted within the limit that holds the right answer can still
	// ConsumeCode it: of concurrent right answers exactly one wins.
	AttemptCode(ctx context.Context, phone PhoneNumber, maxAttempts int) ([]byte, error)
	// WithdrawCode undoes an IssueCode whose message could not be handed
	// over for delivery: if the phone's code still has digest it is deleted,
	// the resend slot is freed and the quota places it took are given back,
	// so the user may ask again at once. Otherwise it does nothing.
	WithdrawCode(ctx context.Context, phone PhoneNumber, digest []byte) error
	// ConsumeCode deletes the phone's code if its digest still equals digest,
	// and reports whether this call did so: of two concurrent consumers of one
	// code exactly one gets true.
	ConsumeCode(ctx context.Context, phone PhoneNumber, digest []byte) (bool, error)
}

// RateLimiter counts events per key against quotas.
type RateLimiter interface {
	// Take records one event under key if every quota still has room, all in
	// one atomic step; otherwise it records nothing and returns a
	// *ThrottledError saying when all of them will have room again. With no
	// quotas it allows everything.
	Take(ctx context.Context, key string, quotas []Quota) error
	// Check tells, recording nothing, whether Take would refuse now: the
	// same *ThrottledError, or nil. It lets a caller refuse before it spends
	// anything of the client's; nil promises nothing, since Take decides
	// again, atomically.
	Check(ctx context.Context, key string, quotas []Quota) error
}

// Events is told of the business outcomes the use cases decide, whichever
// entry point asked, so metrics count the same events for every API.
// adapters/metrics implements it with Prometheus counters.
type Events interface {
	// CaptchaIssued: a captcha was rendered and its answer stored.
	CaptchaIssued()
	// SMSCodeRequested: a code was issued and handed to the outbox.
	SMSCodeRequested()
	// SMSCodeRefused: a request for a code sent nothing, for reason.
	SMSCodeRefused(reason SMSRefusal)
	// CodeVerified: a verification attempt ended with outcome.
	CodeVerified(outcome VerifyOutcome)
}

// CaptchaRenderer draws a captcha image showing text.
type CaptchaRenderer interface {
	// Render returns the encoded image and its media type.
	Render(ctx context.Context, text string) (Image, error)
}

// Image is an encoded picture.
type Image struct {
	ContentType string
	Data        []byte
}

// PhoneParser turns what a user typed into a PhoneNumber. Numbers written in
// national form are read in the region the implementation was made for
// (adapters/phonenumber takes it from VERIFY_DEFAULT_REGION). It returns
// ErrInvalidPhone when raw is not a valid number. Entry points parse with it,
// so the use cases receive phones already valid.
type PhoneParser interface {
	ParsePhone(raw string) (PhoneNumber, error)
}

// SMSSender delivers one message through an SMS provider. Implementations
// return a *SendError for provider refusals so callers can tell whether to
// retry, and never put the code or the full number in an error.
type SMSSender interface {
	// SendSMS delivers msg and says which provider accepted it, so delivery
	// logs and metrics can name it when several providers fail over.
	SendSMS(ctx context.Context, msg SMSMessage) (SMSReceipt, error)
}

// SMSReceipt is what a provider answered for an accepted message.
type SMSReceipt struct {
	// Provider names the provider that accepted the message ("twilio",
	// "aliyun", ...).
	Provider string
	// Reference is the provider's id for the message, if it gave one: what
	// its support asks for when a message did not arrive.
	Reference string
}

// SMSMessage is a message handed to an SMSOutbox. It carries the code, not a
// rendered text: providers that send free text render it in the message's
// language, template-based providers send the code as a parameter.
type SMSMessage struct {
	// ID identifies the message across retries and redeliveries.
	ID string
	To PhoneNumber
	// Code is the one-time code: keep it out of logs.
	Code SMSCode
	// Lang is the language the requester reads; zero means the default.
	Lang Language
	// CreatedAt and ExpiresAt bound when sending still makes sense: a code
	// delivered after it expired only confuses the user.
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Lifetime is how long the code is valid from when it was issued: what the
// message tells the user.
func (m SMSMessage) Lifetime() time.Duration { return m.ExpiresAt.Sub(m.CreatedAt) }

// SMSOutbox accepts messages for delivery in the background, so a request
// never waits for the SMS provider.
type SMSOutbox interface {
	// Enqueue accepts msg or returns an error; once it returns nil the outbox
	// owns delivery.
	Enqueue(ctx context.Context, msg SMSMessage) error
}

// DeliveryObserver is told of every delivery outcome. provider names the
// provider that delivered, refused or failed the message; it is empty when
// no provider was reached (expired, dropped, a cancelled send).
type DeliveryObserver interface {
	ObserveDelivery(outcome DeliveryOutcome, provider string)
}

// Clock tells the time; tests substitute a fixed one.
type Clock interface {
	Now() time.Time
}

// Random supplies unpredictable secrets; production uses crypto/rand.
type Random interface {
	// String returns n characters drawn uniformly from alphabet.
	String(n int, alphabet string) (string, error)
}
