package httpapi

import (
	"net/netip"

	"github.com/gofiber/fiber/v2"
)

// clientIP is the peer address of the connection.
func clientIP(c *fiber.Ctx) netip.Addr {
	addr, err := netip.ParseAddr(c.Context().RemoteIP().String())
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap()
}
