package domain

import (
	"net/netip"
	"testing"
	"time"
)

func TestLimits_SayWhichQuotasApplyToWhatWithoutAskingAnyone(t *testing.T) {
	q := []Quota{{Max: 1, Window: time.Minute}}
	l := Limits{IPCaptcha: q, IPSMS: q, IPVerify: q, GlobalSMS: q}
	v6 := netip.MustParseAddr("2001:db8:1:2:3:4:5:6")
	for name, tc := range map[string]struct {
		got  Limit
		want string
	}{
		"captcha per IPv4 client":    {l.ForCaptcha(netip.MustParseAddr("192.0.2.1")), "captcha:ip:192.0.2.1"},
		"mapped IPv4 is IPv4":        {l.ForSMSRequest(netip.MustParseAddr("::ffff:192.0.2.1")), "sms:ip:192.0.2.1"},
		"IPv6 counted per /64":       {l.ForVerify(v6), "verify:ip:2001:db8:1:2::/64"},
		"one budget for the service": {l.ForGlobalSMS(), "sms:global"},
	} {
		if tc.got.Key != tc.want || len(tc.got.Quotas) != 1 || tc.got.None() {
			t.Errorf("%s: %+v, want key %s with the quota", name, tc.got, tc.want)
		}
	}
	for name, got := range map[string]Limit{
		"unknown client":   l.ForCaptcha(netip.Addr{}),
		"no client quotas": Limits{}.ForSMSRequest(v6),
		"no budget":        Limits{}.ForGlobalSMS(),
	} {
		if !got.None() {
			t.Errorf("%s: %+v, want no limit", name, got)
		}
	}
}
