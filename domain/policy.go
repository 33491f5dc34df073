package domain

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

// CaptchaAlphabet leaves out characters that look alike in a distorted image
// (0/o, 1/l/i and friends), so a failed captcha means a failed reader, not a
// failed font.
const CaptchaAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// Digits is the alphabet of SMS codes.
const Digits = "0123456789"

// Policy holds the timing and counting rules; DefaultPolicy has the seed's.
type Policy struct {
	CaptchaLength  int
	CaptchaTTL     time.Duration
	CodeTTL        time.Duration
	ResendInterval time.Duration
	// MaxAttempts is how many verification tries one code allows.
	MaxAttempts int
	// Limits are the abuse controls; the zero value limits nothing beyond
	// the resend interval.
	Limits Limits
}

// DefaultPolicy returns the seed's expiries (IMAGE_CODE_REDIS_EXPIRES 300 s,
// SMS_CODE_REDIS_EXPIRES 300 s, SEND_SMS_CODE_INTERVAL 60 s), 4-character
// captchas, 5 verification attempts and DefaultLimits.
func DefaultPolicy() Policy {
	return Policy{
		CaptchaLength:  4,
		CaptchaTTL:     300 * time.Second,
		CodeTTL:        300 * time.Second,
		ResendInterval: 60 * time.Second,
		MaxAttempts:    5,
		Limits:         DefaultLimits(),
	}
}

// Validate reports the first rule that cannot work.
func (p Policy) Validate() error {
	switch {
	case p.CaptchaLength < 1:
		return errors.New("policy: captcha length must be at least 1")
	case p.CaptchaTTL <= 0 || p.CodeTTL <= 0 || p.ResendInterval <= 0:
		return errors.New("policy: durations must be positive")
	case p.MaxAttempts < 1:
		return errors.New("policy: max attempts must be at least 1")
	}
	for _, qs := range [][]Quota{p.Limits.PhoneSMS, p.Limits.GlobalSMS, p.Limits.IPCaptcha, p.Limits.IPSMS, p.Limits.IPVerify} {
		for _, q := range qs {
			if !q.Valid() {
				return fmt.Errorf("policy: quota %s must have a positive count and window", q)
			}
		}
	}
	return nil
}

// MinCodeSecretLength is the shortest accepted HMAC key for SMS code digests.
const MinCodeSecretLength = 32

// CodeDigester turns an SMS code into the keyed digest that stores keep, so a
// leaked store does not leak live codes.
type CodeDigester struct {
	secret []byte
}

// NewCodeDigester refuses secrets shorter than MinCodeSecretLength bytes.
func NewCodeDigester(secret []byte) (*CodeDigester, error) {
	if len(secret) < MinCodeSecretLength {
		return nil, errors.New("code secret must be at least 32 bytes")
	}
	return &CodeDigester{secret: append([]byte(nil), secret...)}, nil
}

// Digest is HMAC-SHA256(secret, phone || 0 || code). Binding the phone means a
// digest copied to another phone's key does not verify.
func (d *CodeDigester) Digest(phone PhoneNumber, code SMSCode) []byte {
	m := hmac.New(sha256.New, d.secret)
	m.Write([]byte(phone.E164()))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}
