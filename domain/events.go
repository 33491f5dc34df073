package domain

import "errors"

// SMSRefusal says why a request for an SMS code sent nothing. The use case
// decides it, so every entry point (the seed's routes, a versioned API)
// reports the same reasons.
type SMSRefusal string

// Reasons a request for a code sent nothing.
const (
	// SMSRefusedInvalid: missing input, or a number SMS may not go to.
	SMSRefusedInvalid SMSRefusal = "invalid"
	// SMSRefusedClientLimit: the client's quota of SMS requests is used up.
	SMSRefusedClientLimit SMSRefusal = "client_limit"
	// SMSRefusedPhoneLimit: the phone's resend interval or quotas.
	SMSRefusedPhoneLimit SMSRefusal = "phone_limit"
	// SMSRefusedBudget: the service-wide SMS budget is spent.
	SMSRefusedBudget SMSRefusal = "budget"
	// SMSRefusedCaptchaMismatch: the captcha answer was wrong.
	SMSRefusedCaptchaMismatch SMSRefusal = "captcha_mismatch"
	// SMSRefusedCaptchaExpired: the captcha was expired or already used.
	SMSRefusedCaptchaExpired SMSRefusal = "captcha_expired"
	// SMSRefusedError: a store, the random source or the outbox failed.
	SMSRefusedError SMSRefusal = "error"
)

// SMSRefusals lists every reason, so counters can start at zero.
func SMSRefusals() []SMSRefusal {
	return []SMSRefusal{SMSRefusedInvalid, SMSRefusedClientLimit, SMSRefusedPhoneLimit, SMSRefusedBudget,
		SMSRefusedCaptchaMismatch, SMSRefusedCaptchaExpired, SMSRefusedError}
}

// VerifyOutcome is how one verification attempt ended.
type VerifyOutcome string

// Verification outcomes.
const (
	VerifySuccess   VerifyOutcome = "success"
	VerifyMismatch  VerifyOutcome = "mismatch"
	VerifyThrottled VerifyOutcome = "throttled"
	VerifyInvalid   VerifyOutcome = "invalid"
	VerifyError     VerifyOutcome = "error"
)

// VerifyOutcomeOf names the outcome a verification's error means: nil is a
// success, a refusal by a limit is throttled, bad input is invalid, and
// anything else (a store outage) an error.
func VerifyOutcomeOf(err error) VerifyOutcome {
	switch {
	case err == nil:
		return VerifySuccess
	case errors.Is(err, ErrSMSCodeMismatch):
		return VerifyMismatch
	case errors.As(err, new(*ThrottledError)):
		return VerifyThrottled
	case errors.Is(err, ErrInvalidPhone) || errors.As(err, new(*InvalidInputError)):
		return VerifyInvalid
	}
	return VerifyError
}
