package memory_test

import (
	"testing"

	"github.com/lemonmall/verifyd/adapters/memory"
	"github.com/lemonmall/verifyd/adapters/storetest"
	"github.com/lemonmall/verifyd/adapters/system"
	"github.com/lemonmall/verifyd/domain"
)

func TestLimiter_Contract(t *testing.T) {
	storetest.RunLimiter(t, func(*testing.T) domain.RateLimiter { return memory.NewLimiter(system.Clock{}) })
}
