package config

import (
	"strconv"
	"strings"
)

// DefaultSMSConcurrency is VERIFY_SMS_WORKERS's default: how many sends one
// process keeps in flight. A send mostly waits for the provider (50-300 ms),
// so 64 in flight keep one core far from busy while a provider answering in
// 50 ms takes over 1,000 messages a second; VERIFY_SMS_RATE, not this, is
// the knob for the provider's limit.
const DefaultSMSConcurrency = 64

// smsRate reads VERIFY_SMS_RATE: the most messages a second one process
// (verifyd's in-process pool, or one smsworker) hands to the SMS provider,
// or "off" (the default) for no limit. With several workers sharing one
// provider account, give each its share of the account's rate.
func (p *parser) smsRate() float64 {
	raw := p.str("VERIFY_SMS_RATE", "")
	if raw == "" || strings.EqualFold(raw, "off") {
		return 0
	}
	r, err := strconv.ParseFloat(raw, 64)
	if err != nil || !(r > 0 && r <= 1e6) { // also refuses NaN
		p.fail("VERIFY_SMS_RATE=%q: want messages per second, a number above 0 up to 1000000, or off", raw)
		return 0
	}
	return r
}
