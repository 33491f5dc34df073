// Package logtest provides a log buffer for tests of code that logs from
// goroutines of its own (outbox workers, HTTP handlers, child processes),
// so a test can read what was logged while writers may still be running.
package logtest

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer whose writes and reads may happen concurrently.
// The zero value is an empty buffer ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
