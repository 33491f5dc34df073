package config

import (
	"strconv"
	"strings"
)

// DefaultSMSConcurrency is VERIFY_SMS_WORKERS's default: how many sends one
// process keeps in flight. A send mostly waits for the provider (50-300 ms),
// so with 128 in flight one smsworker sends 1,150-1,240 messages a second
// through a provider answering in 50 ms on under half a core (64 gave 740-800:
// Redis round trips and fetching add about 30 ms to each message's turn;
// docs/BENCHMARKS.md). VERIFY_SMS_RATE, not this, is the knob for the
// provider's limit.
const DefaultSMSConcurrency = 128

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
