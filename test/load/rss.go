package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rssSampler reads a process's resident set size (VmRSS) every interval.
type rssSampler struct {
	mu      sync.Mutex
	samples []rssSample
	done    chan struct{}
}

type rssSample struct {
	at  time.Duration // since the sampler started
	kib int64
}

func sampleRSS(ctx context.Context, pid int, every time.Duration) *rssSampler {
	s := &rssSampler{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		start := time.Now()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if kib, err := vmRSS(pid); err == nil {
				s.mu.Lock()
				s.samples = append(s.samples, rssSample{at: time.Since(start), kib: kib})
				s.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// summary gives the highest RSS, and the lowest and highest after warm-up
// with their spread relative to the lowest.
func (s *rssSampler) summary(warmup time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var peak, lo, hi, first, last int64
	for _, x := range s.samples {
		peak = max(peak, x.kib)
		if x.at < warmup {
			continue
		}
		if first == 0 {
			first, lo = x.kib, x.kib
		}
		last = x.kib
		lo, hi = min(lo, x.kib), max(hi, x.kib)
	}
	if lo == 0 {
		return fmt.Sprintf("peak %.1f MB (%d samples, none after warm-up)", mib(peak), len(s.samples))
	}
	return fmt.Sprintf("peak %.1f MB; after %s: first %.1f, last %.1f, min %.1f, max %.1f MB, spread %.1f%%, last/first %+.1f%% (%d samples)",
		mib(peak), warmup, mib(first), mib(last), mib(lo), mib(hi), 100*float64(hi-lo)/float64(lo),
		100*(float64(last)/float64(first)-1), len(s.samples))
}

func (s *rssSampler) peakMB() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var peak int64
	for _, x := range s.samples {
		peak = max(peak, x.kib)
	}
	return mib(peak)
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

func vmRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}
