package httpapi

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// localClient caches a request's client address: the handler needs it for
// limits and the access log for its line, and X-Forwarded-For is parsed once.
const localClient = "verifyd.client"

// client returns clientIP for the request, computed once per request.
func (s *Server) client(c *fiber.Ctx) netip.Addr {
	if addr, ok := c.Locals(localClient).(netip.Addr); ok {
		return addr
	}
	addr := clientIP(c, s.cfg.TrustedProxies)
	c.Locals(localClient, addr)
	return addr
}

// clientIP is the address abuse limits are keyed on: the connection's peer,
// unless the peer is a trusted proxy. Then X-Forwarded-For is read from the
// right, skipping trusted proxies, and the first other address is the client.
// Reading from the left, as many frameworks do, would let any client pick its
// own address by sending the header itself.
func clientIP(c *fiber.Ctx, trusted []netip.Prefix) netip.Addr {
	peer, err := netip.ParseAddr(c.Context().RemoteIP().String())
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if !isTrusted(peer, trusted) {
		return peer
	}
	var hops []string
	for _, v := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		hops = append(hops, strings.Split(string(v), ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			// Whatever sits left of a garbled entry cannot be trusted.
			return client
		}
		client = addr.Unmap()
		if !isTrusted(client, trusted) {
			return client
		}
	}
	return client
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
