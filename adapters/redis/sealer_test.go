package redis_test

import (
	"strings"
	"testing"

	"github.com/lemonmall/verifyd/adapters/redis"
)

// testSealer seals the queue tests' messages.
var testSealer = mustSealer(strings.Repeat("queue-test-secret-", 2))

func mustSealer(secret string) *redis.Sealer {
	s, err := redis.NewSealer([]byte(secret))
	if err != nil {
		panic(err)
	}
	return s
}

func TestSealer_OpensOnlyWithTheSameSecretAndID(t *testing.T) {
	sealed, err := testSealer.Seal("m1", "Your verification code is 123456.")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "123456") {
		t.Fatal("sealed text shows the code")
	}
	if got, err := testSealer.Open("m1", sealed); err != nil || got != "Your verification code is 123456." {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := testSealer.Open("m2", sealed); err == nil {
		t.Error("opened under another message id")
	}
	if _, err := mustSealer(strings.Repeat("another-secret-xx-", 2)).Open("m1", sealed); err == nil {
		t.Error("opened with another secret")
	}
	again, _ := testSealer.Seal("m1", "Your verification code is 123456.")
	if again == sealed {
		t.Error("two seals of one text are equal: the nonce is not fresh")
	}
	if _, err := redis.NewSealer([]byte("short")); err == nil {
		t.Error("short secret accepted")
	}
}
