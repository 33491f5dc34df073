package domain

import (
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Quota allows at most Max events in any sliding window of length Window.
// A sliding window, unlike a fixed or token-bucket one, never lets a burst at
// a window's edge double the limit: "5 per hour" means 5 in any hour.
type Quota struct {
	Max    int
	Window time.Duration
}

func (q Quota) String() string { return fmt.Sprintf("%d/%s", q.Max, q.Window) }

// MaxQuotaWindow is the longest window verifyd's configuration accepts; the
// memory store forgets a phone's send history once this long has passed
// since its last code.
const MaxQuotaWindow = 7 * 24 * time.Hour

// Valid reports whether the quota can be enforced.
func (q Quota) Valid() bool { return q.Max > 0 && q.Window > 0 }

// Limits are the abuse controls: how often a phone, a client address and the
// whole service may cause work, and which numbers may receive an SMS at all.
type Limits struct {
	// PhoneSMS bounds codes sent to one phone, on top of the resend
	// interval. Enforced by the CodeStore in the same step as the interval.
	PhoneSMS []Quota
	// GlobalSMS is a budget for the whole service, a circuit breaker against
	// SMS pumping that spreads over many numbers.
	GlobalSMS []Quota
	// IPCaptcha, IPSMS and IPVerify bound what one client address may ask
	// for. IPv6 clients are counted per /64, the block one subscriber gets.
	IPCaptcha []Quota
	IPSMS     []Quota
	IPVerify  []Quota
	// SMSRegions lists the ISO 3166-1 regions SMS may go to; empty allows any.
	SMSRegions []string
	// MobileOnly refuses numbers whose numbering plan says they are not
	// mobile (fixed line, premium rate, VoIP...), where pumping fraud sends
	// traffic.
	MobileOnly bool
}

// DefaultLimits protects a service on the open internet out of the box. SMS
// may go to mobile numbers only; callers should also restrict SMSRegions to
// where their users are (verifyd's configuration defaults to its region).
func DefaultLimits() Limits {
	return Limits{
		PhoneSMS:   []Quota{{5, time.Hour}, {10, 24 * time.Hour}},
		GlobalSMS:  []Quota{{1000, time.Hour}},
		IPCaptcha:  []Quota{{30, time.Minute}, {300, time.Hour}},
		IPSMS:      []Quota{{10, time.Hour}},
		IPVerify:   []Quota{{30, 10 * time.Minute}},
		MobileOnly: true,
	}
}

// AllowsSMSTo reports whether phone may be sent a code under these limits.
func (l Limits) AllowsSMSTo(phone PhoneNumber) bool {
	if l.MobileOnly && !phone.Line().CanReceiveSMS() {
		return false
	}
	return len(l.SMSRegions) == 0 || slices.Contains(l.SMSRegions, phone.Region())
}

// keyGlobalSMS names the service-wide budget; each key is one subject, which
// a store keeps together (the Redis limiter makes it a cluster hash tag).
const keyGlobalSMS = "sms:global"

// ClientKey names the client behind addr for per-address limits, or "" when
// the address is unknown. IPv6 addresses are cut to their /64.
func ClientKey(addr netip.Addr) string {
	if !addr.IsValid() {
		return ""
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// Limit is one set of quotas counted under one key: what a RateLimiter is
// asked to take or check. The zero Limit limits nothing.
type Limit struct {
	Key    string
	Quotas []Quota
}

// None reports whether the limit has nothing to count, so a caller need not
// ask the limiter at all.
func (l Limit) None() bool { return l.Key == "" || len(l.Quotas) == 0 }

// forClient applies quotas to the client behind addr; an unknown address is
// not limited here, since a caller without one (a batch job embedding the use
// case) has nothing to key on.
func forClient(action string, addr netip.Addr, quotas []Quota) Limit {
	client := ClientKey(addr)
	if client == "" || len(quotas) == 0 {
		return Limit{}
	}
	return Limit{Key: action + ":ip:" + client, Quotas: quotas}
}

// ForCaptcha is the limit on captchas rendered for the client at addr.
func (l Limits) ForCaptcha(addr netip.Addr) Limit { return forClient("captcha", addr, l.IPCaptcha) }

// ForSMSRequest is the limit on SMS requests from the client at addr.
func (l Limits) ForSMSRequest(addr netip.Addr) Limit { return forClient("sms", addr, l.IPSMS) }

// ForVerify is the limit on verification attempts from the client at addr.
func (l Limits) ForVerify(addr netip.Addr) Limit { return forClient("verify", addr, l.IPVerify) }

// ForGlobalSMS is the service-wide SMS budget.
func (l Limits) ForGlobalSMS() Limit {
	if len(l.GlobalSMS) == 0 {
		return Limit{}
	}
	return Limit{Key: keyGlobalSMS, Quotas: l.GlobalSMS}
}
