package domain

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors returned by use cases and adapters. Callers test them with
// errors.Is; the HTTP adapter maps each one to a status and a RETCODE.
var (
	// ErrImageCodeMismatch covers a wrong, expired or already used captcha
	// answer: telling these apart would help an attacker, not a user.
	ErrImageCodeMismatch = errors.New("image code is wrong or no longer valid")
	// ErrImageCodeExpired is the ErrImageCodeMismatch of a captcha that was
	// never issued, has expired or was already used. The seed tells it apart
	// from a wrong answer so the user knows to fetch a new image; either way
	// the attempt is spent, so the difference gives a guesser nothing.
	ErrImageCodeExpired = fmt.Errorf("%w: expired or already used", ErrImageCodeMismatch)
	// ErrSMSCodeMismatch covers a wrong, expired, used or burned SMS code for
	// the same reason.
	ErrSMSCodeMismatch = errors.New("sms code is wrong or no longer valid")
	// ErrInvalidPhone means the mobile number cannot be parsed or is not
	// allowed.
	ErrInvalidPhone = errors.New("invalid mobile number")
	// ErrChallengeNotFound is returned by a ChallengeStore when no answer is
	// stored under an id (never issued, expired or already taken).
	ErrChallengeNotFound = errors.New("challenge not found")
	// ErrCodeNotFound is returned by a CodeStore when a phone has no live code.
	ErrCodeNotFound = errors.New("code not found")
	// ErrStoreUnavailable means the backing store could not be reached; the
	// request may succeed later.
	ErrStoreUnavailable = errors.New("store unavailable")
	// ErrOutboxFull means the SMS outbox refused a message because it is at
	// capacity or shutting down; the request may succeed later.
	ErrOutboxFull = errors.New("sms outbox unavailable")
)

// ReasonRequired is the InvalidInputError reason of a missing parameter.
const ReasonRequired = "is required"

// InvalidInputError reports a missing or malformed client parameter.
type InvalidInputError struct {
	Field  string
	Reason string
}

func (e *InvalidInputError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason)
}

// ThrottledError reports that an action is refused until RetryAfter has passed.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("throttled: retry after %s", e.RetryAfter)
}

// SendError is returned by an SMSSender when the provider refused or failed a
// message. Retryable says whether sending the same message again can help
// (provider outage, rate limit, network) or not (invalid number, not a mobile).
type SendError struct {
	Provider  string
	Code      int
	Retryable bool
	Reason    string
	Err       error
}

func (e *SendError) Error() string {
	kind := "permanent"
	if e.Retryable {
		kind = "temporary"
	}
	return fmt.Sprintf("%s: %s send failure (code %d): %s", e.Provider, kind, e.Code, e.Reason)
}

func (e *SendError) Unwrap() error { return e.Err }

// IsRetryableSend reports whether err is worth another send attempt. Errors
// that are not a SendError (timeouts, connection resets) are assumed to be
// temporary.
func IsRetryableSend(err error) bool {
	if err == nil {
		return false
	}
	var se *SendError
	if errors.As(err, &se) {
		return se.Retryable
	}
	return true
}
