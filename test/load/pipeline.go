package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lemonmall/verifyd/adapters/captcha"
	"github.com/lemonmall/verifyd/domain"
)

// rate is a throughput with the CPU time it took per operation.
type rate struct {
	perSecond float64
	cpuPerOp  time.Duration
}

// pipelineRate renders captchas in this process with verifyd's renderer, on
// every core (one goroutine per GOMAXPROCS), for d: the ceiling the image
// endpoint is compared with, measured in the same run on the same machine.
func pipelineRate(d time.Duration) (rate, error) {
	r := captcha.NewRenderer()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var (
		done    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	cpu0, err := cpuSelf()
	if err != nil {
		return rate{}, err
	}
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			text := make([]byte, 4)
			for ctx.Err() == nil {
				for i := range text {
					text[i] = domain.CaptchaAlphabet[rand.IntN(len(domain.CaptchaAlphabet))]
				}
				if _, err := r.Render(context.Background(), string(text)); err != nil {
					errOnce.Do(func() { first = err })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if first != nil {
		return rate{}, fmt.Errorf("render: %w", first)
	}
	cpu1, err := cpuSelf()
	if err != nil {
		return rate{}, err
	}
	n := done.Load()
	if n == 0 {
		return rate{}, fmt.Errorf("no render finished in %s", d)
	}
	return rate{perSecond: float64(n) / elapsed.Seconds(), cpuPerOp: (cpu1 - cpu0) / time.Duration(n)}, nil
}

// reportCaptcha prints the endpoint's rate next to the in-process pipeline's
// (the mean of the runs before and after the load), both by the clock and
// by CPU time: on a machine busy with other work, the processes' share of
// the cores differs between the phases, while CPU time per request does
// not depend on it. The endpoint's CPU time is verifyd's plus the load
// generator's, which share the cores as the pipeline's goroutines do.
func reportCaptcha(endpoint rate, before, after rate, p50, p99 time.Duration) {
	pipe := rate{perSecond: (before.perSecond + after.perSecond) / 2, cpuPerOp: (before.cpuPerOp + after.cpuPerOp) / 2}
	fmt.Printf("pipeline in-process on %d cores: %.0f renders/s (%.0f before the load, %.0f after), %s CPU per render\n",
		runtime.GOMAXPROCS(0), pipe.perSecond, before.perSecond, after.perSecond, pipe.cpuPerOp.Round(time.Microsecond))
	fmt.Printf("endpoint: %s CPU per request (verifyd and load generator)\n", endpoint.cpuPerOp.Round(time.Microsecond))
	fmt.Printf("endpoint/pipeline by clock=%.2f by CPU=%.2f (goal >= 0.9) p99/p50=%.2f (goal <= 2.5)\n",
		endpoint.perSecond/pipe.perSecond, float64(pipe.cpuPerOp)/float64(endpoint.cpuPerOp), float64(p99)/float64(p50))
	fmt.Printf("GOAL captcha endpoint/pipeline=%.3f cpu=%.3f p99/p50=%.3f\n",
		endpoint.perSecond/pipe.perSecond, float64(pipe.cpuPerOp)/float64(endpoint.cpuPerOp), float64(p99)/float64(p50))
}

// cpuSelf is the CPU time this process has used, GC included.
func cpuSelf() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// cpuOf is the CPU time process pid has used, from /proc (Linux).
func cpuOf(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14 and stime 15 (in clock ticks).
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	const clockTicks = 100 // USER_HZ, 100 on every Linux architecture Go supports
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
