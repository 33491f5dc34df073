package config

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lemonmall/verifyd/adapters/phonenumber"
	"github.com/lemonmall/verifyd/domain"
)

// limits reads the abuse controls; defaults are domain.DefaultLimits with SMS
// allowed to the default region only.
func (p *parser) limits(defaultRegion string) domain.Limits {
	d := domain.DefaultLimits()
	l := domain.Limits{
		PhoneSMS:   p.quotas("VERIFY_LIMIT_PHONE_SMS", d.PhoneSMS),
		GlobalSMS:  p.quotas("VERIFY_LIMIT_GLOBAL_SMS", d.GlobalSMS),
		IPCaptcha:  p.quotas("VERIFY_LIMIT_IP_CAPTCHA", d.IPCaptcha),
		IPSMS:      p.quotas("VERIFY_LIMIT_IP_SMS", d.IPSMS),
		IPVerify:   p.quotas("VERIFY_LIMIT_IP_VERIFY", d.IPVerify),
		MobileOnly: p.boolean("VERIFY_SMS_MOBILE_ONLY", d.MobileOnly),
	}
	raw := p.str("VERIFY_SMS_ALLOWED_REGIONS", defaultRegion)
	if raw == "*" {
		return l
	}
	for _, r := range strings.Split(raw, ",") {
		r = strings.ToUpper(strings.TrimSpace(r))
		if !phonenumber.IsKnownRegion(r) {
			p.fail("VERIFY_SMS_ALLOWED_REGIONS=%q: %q is not a region; want comma-separated ISO 3166-1 alpha-2 codes, or *", raw, r)
			continue
		}
		l.SMSRegions = append(l.SMSRegions, r)
	}
	return l
}

// quotas parses "5/1h,10/24h" (count/window, comma-separated) or "off".
func (p *parser) quotas(name string, def []domain.Quota) []domain.Quota {
	raw := p.str(name, "")
	switch strings.ToLower(raw) {
	case "":
		return def
	case "off":
		return nil
	}
	var out []domain.Quota
	for _, part := range strings.Split(raw, ",") {
		count, window, ok := strings.Cut(strings.TrimSpace(part), "/")
		n, err1 := strconv.Atoi(count)
		d, err2 := time.ParseDuration(window)
		if !ok || err1 != nil || err2 != nil || n < 1 || d <= 0 || d > domain.MaxQuotaWindow {
			p.fail("%s=%q: want count/window pairs such as 5/1h,10/24h (window up to 168h), or off", name, raw)
			return def
		}
		out = append(out, domain.Quota{Max: n, Window: d})
	}
	return out
}

func (p *parser) boolean(name string, def bool) bool {
	raw := p.str(name, "")
	if raw == "" {
		return def
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		p.fail("%s=%q: want true or false", name, raw)
		return def
	}
	return v
}

// prefixes parses comma-separated CIDRs or single addresses.
func (p *parser) prefixes(name string) []netip.Prefix {
	raw := p.str(name, "")
	if raw == "" {
		return nil
	}
	var out []netip.Prefix
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if pfx, err := netip.ParsePrefix(part); err == nil {
			out = append(out, pfx.Masked())
			continue
		}
		if addr, err := netip.ParseAddr(part); err == nil {
			out = append(out, netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()))
			continue
		}
		p.fail("%s=%q: %q is neither a CIDR nor an address", name, raw, part)
	}
	return out
}
