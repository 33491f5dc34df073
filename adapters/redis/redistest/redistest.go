// Package redistest finds the Redis that tests run against, so every package
// testing against Redis resolves it the same way and fails the same way.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/adapters/redis"
)

// EnvURL names the variable holding the Redis URL tests use.
const EnvURL = "VERIFY_TEST_REDIS_URL"

// DefaultURL is used when EnvURL is unset and a Redis answers there. Database
// 15 keeps test keys away from a developer's data in database 0.
const DefaultURL = "redis://127.0.0.1:6379/15"

const probeTimeout = time.Second

// URL returns $VERIFY_TEST_REDIS_URL if set, else DefaultURL if a Redis
// answers PING there. Otherwise it fails the test: tests that need Redis are
// never skipped, since a skipped store test passes silently.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	if err := probe("127.0.0.1:6379"); err != nil {
		t.Fatalf("no Redis for tests: %s is unset and %s does not answer PING (%v); "+
			"run `make test`, which starts one, or set %s", EnvURL, DefaultURL, err, EnvURL)
	}
	return DefaultURL
}

// Client dials URL(t) and closes the client when the test ends. Tests share
// the database: they must use keys of their own rather than flush it.
func Client(t testing.TB) rueidis.Client {
	t.Helper()
	url := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client, err := redis.Dial(ctx, url)
	if err != nil {
		t.Fatalf("dial test Redis %s: %v; run `make test`, which starts one, or set %s", url, err, EnvURL)
	}
	t.Cleanup(client.Close)
	return client
}

// probe sends an inline PING and expects +PONG.
func probe(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, probeTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(probeTimeout)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line = strings.TrimSpace(line); line != "+PONG" {
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}
