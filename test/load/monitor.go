package main

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tripCounter counts the Redis commands each phase's requests send, from
// Redis's MONITOR stream: a command sent by a client is one round trip of
// it (rueidis may carry several in one write, but each waits for its reply
// before the request goes on); commands a Lua script runs show as "lua"
// and are not counted. Only this run's database is counted, and each phase
// sits between two ECHO markers.
type tripCounter struct {
	conn  net.Conn
	db    string
	mu    sync.Mutex
	lines []string
	seen  chan string // markers as they arrive
}

func startMonitor(addr string, db int) (*tripCounter, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		conn.Close()
		return nil, err
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	ok, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(ok, "+OK") {
		conn.Close()
		return nil, fmt.Errorf("MONITOR: %q %v", ok, err)
	}
	t := &tripCounter{conn: conn, db: "[" + strconv.Itoa(db) + " ", seen: make(chan string, 64)}
	go func() {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				close(t.seen)
				return
			}
			if !strings.Contains(line, t.db) || strings.Contains(line, " lua] ") {
				continue
			}
			t.mu.Lock()
			t.lines = append(t.lines, line)
			t.mu.Unlock()
			if i := strings.Index(line, `"mark:`); i >= 0 {
				t.seen <- strings.Trim(strings.TrimSpace(line[i:]), `"`)
			}
		}
	}()
	return t, nil
}

// waitMark waits until marker has come through the stream.
func (t *tripCounter) waitMark(ctx context.Context, marker string) error {
	for {
		select {
		case m, ok := <-t.seen:
			if !ok {
				return fmt.Errorf("MONITOR closed before %s", marker)
			}
			if m == marker {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", marker, ctx.Err())
		}
	}
}

// between counts commands by name between the two markers.
func (t *tripCounter) between(from, to string) map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	counts := map[string]int{}
	in := false
	for _, line := range t.lines {
		switch {
		case strings.Contains(line, `"`+from+`"`):
			in = true
			continue
		case strings.Contains(line, `"`+to+`"`):
			return counts
		}
		if !in {
			continue
		}
		_, cmd, ok := strings.Cut(line, `] "`)
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(cmd, `"`)
		counts[strings.ToUpper(name)]++
	}
	return counts
}

func (t *tripCounter) close() { t.conn.Close() }

// formatTrips renders counts per request: "3.00 (EVALSHA 2.00, GETDEL 1.00)".
func formatTrips(counts map[string]int, requests int) string {
	total := 0
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(counts)) {
		total += counts[name]
		parts = append(parts, fmt.Sprintf("%s %.2f", name, float64(counts[name])/float64(requests)))
	}
	return fmt.Sprintf("%.2f (%s)", float64(total)/float64(requests), strings.Join(parts, ", "))
}
