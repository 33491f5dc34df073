package redis

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/redis/rueidis"
)

// maxLostConnectionRetries bounds how often one command is sent again after
// finding its connection dropped. rueidis pipelines over up to 4 connections
// per node and picks one per command, and after a Redis restart each of them
// is found dropped only when next used; every failed try replaces the
// connection it used, so 4 retries always reach a fresh one.
const maxLostConnectionRetries = 4

// retryLostConnection is the client's rueidis RetryDelay, applied to the
// commands marked retryable (read-only ones, and the writes this package
// marks because a repeat is harmless: see Store, Limiter and the worker's
// ack, renew and prune scripts). A command that failed because its
// connection was found dropped, as after Redis restarted, is sent again at
// once on a new connection, so the first request after a
// recovery succeeds instead of answering 503. A read-only command keeps
// rueidis's own rule for other errors (backing off until its context ends),
// which lets a cluster client find a failed-over master. Any other write is
// not retried after a timeout or a refused connection: during an outage a
// request fails fast.
func retryLostConnection(attempts int, cmd rueidis.Completed, err error) time.Duration {
	if attempts <= maxLostConnectionRetries && connectionLost(err) {
		return 0
	}
	if cmd.IsReadOnly() {
		return readOnlyBackoff(attempts)
	}
	return -1
}

// readOnlyBackoff is rueidis's default retry delay: exponential from 2 µs
// with jitter, at most a second.
func readOnlyBackoff(attempts int) time.Duration {
	base := time.Duration(1<<min(20, attempts)) * time.Microsecond
	return min(time.Second, base+rand.N(base))
}

// connectionLost reports whether err says an established connection was
// closed by the other side: the command may not have reached the server, and
// a new connection may well work.
func connectionLost(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, net.ErrClosed)
}
