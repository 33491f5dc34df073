// Command load measures verifyd's HTTP API under concurrent load on
// loopback: it starts a verifyd binary (memory or Redis store, log SMS
// sender, abuse limits off so the load is not refused), drives one scenario
// for a fixed time and prints throughput and latency percentiles.
//
//	go build -o bin/ ./cmd/... && go run ./test/load -bin bin/verifyd -scenario captcha -duration 10s
//
// It stops by itself after -duration and only ever talks to 127.0.0.1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/rueidis"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("bin", "bin/verifyd", "verifyd binary to start")
	scenario := flag.String("scenario", "captcha", "captcha (GET /image_codes/), sms (captcha, then SMS request, then verify with a wrong code), "+
		"smspath (SMS request and verification with seeded captchas and codes against a bare Fiber+rueidis handler, round trips, Redis memory per user) "+
		"or soak (smspath's two verifyd paths for -duration, sampling verifyd's RSS)")
	store := flag.String("store", "memory", "memory or redis")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/15", "Redis for -store redis (must be on loopback)")
	clients := flag.Int("clients", 16, "concurrent clients")
	duration := flag.Duration("duration", 10*time.Second, "how long to send load (at most 2m)")
	pipeline := flag.Bool("pipeline", true, "with -scenario captcha: also render in-process on all cores, half of -duration before the load and half after, and compare")
	rounds := flag.Int("rounds", 3, "with -scenario smspath: interleaved rounds of every phase")
	verifydEnv := flag.String("verifyd-env", "", "with -scenario smspath or soak: extra environment for the verifyd processes only, space-separated (e.g. GOGC=50)")
	binB := flag.String("bin-b", "", "with -scenario smspath: a second verifyd binary measured in the same rounds (phases sms-b, verify-b)")
	serveFloor := flag.String("serve-floor", "", "run the floor handler on this address instead (started by -scenario smspath)")
	flag.Parse()
	if *serveFloor != "" {
		return serveFloorHandler(*serveFloor, *redisURL)
	}
	if *duration <= 0 || *duration > 2*time.Minute {
		return errors.New("-duration must be within (0, 2m]")
	}
	switch *scenario {
	case "smspath", "soak":
		if *rounds < 1 {
			return errors.New("-rounds must be at least 1")
		}
		return runSMSPath(*bin, *binB, *redisURL, strings.Fields(*verifydEnv), *clients, *rounds, *duration, *scenario == "soak")
	}
	if *scenario == "sms" && *store != "redis" {
		return errors.New("-scenario sms reads captcha answers from Redis: use -store redis")
	}
	addr, err := freeLoopback()
	if err != nil {
		return err
	}
	env := append(os.Environ(),
		"VERIFY_ADDR="+addr, "VERIFY_STORE="+*store, "VERIFY_LOG_LEVEL=error",
		"VERIFY_LIMIT_IP_CAPTCHA=off", "VERIFY_LIMIT_IP_SMS=off", "VERIFY_LIMIT_IP_VERIFY=off",
		"VERIFY_LIMIT_GLOBAL_SMS=off", "VERIFY_LIMIT_PHONE_SMS=off",
	)
	var rc rueidis.Client
	if *store == "redis" {
		u, err := url.Parse(*redisURL)
		if err != nil || !isLoopback(u.Hostname()) {
			return fmt.Errorf("-redis %q: want a loopback URL", *redisURL)
		}
		env = append(env, "VERIFY_REDIS_URL="+*redisURL, "VERIFY_CODE_SECRET=load-test-secret-load-test-secret-0")
		opt, err := rueidis.ParseURL(*redisURL)
		if err != nil {
			return err
		}
		opt.DisableCache = true
		if rc, err = rueidis.NewClient(opt); err != nil {
			return err
		}
		defer rc.Close()
	}

	cmd := exec.Command(*bin)
	cmd.Env = env
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", *bin, err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	base := "http://" + addr
	if err := waitReady(base); err != nil {
		return err
	}

	var pipelineBefore rate
	if *scenario == "captcha" && *pipeline {
		if pipelineBefore, err = pipelineRate(*duration / 2); err != nil {
			return err
		}
	}

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *clients}}
	cpuVerifyd0, err := cpuOf(cmd.Process.Pid)
	if err != nil {
		return err
	}
	cpuSelf0, err := cpuSelf()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  int
		wg        sync.WaitGroup
	)
	for range *clients {
		wg.Go(func() {
			var own []time.Duration
			bad := 0
			raw := newRawClient(addr)
			defer raw.close()
			for ctx.Err() == nil {
				t0 := time.Now()
				var err error
				switch *scenario {
				case "captcha":
					err = rawGet(raw, "/image_codes/"+uuid.NewString()+"/", 200)
				case "sms":
					err = smsFlow(client, rc, base)
				}
				if ctx.Err() != nil {
					break
				}
				if err != nil {
					bad++
					continue
				}
				own = append(own, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, own...)
			failures += bad
			mu.Unlock()
		})
	}
	wg.Wait()
	cpuVerifyd1, err := cpuOf(cmd.Process.Pid)
	if err != nil {
		return err
	}
	cpuSelf1, err := cpuSelf()
	if err != nil {
		return err
	}
	slices.Sort(latencies)
	n := len(latencies)
	if n == 0 {
		return fmt.Errorf("no successful iterations (%d failures)", failures)
	}
	pct := func(p float64) time.Duration { return latencies[min(n-1, int(float64(n)*p))] }
	fmt.Printf("scenario=%s store=%s clients=%d duration=%s\n", *scenario, *store, *clients, *duration)
	fmt.Printf("iterations=%d failures=%d rate=%.0f/s p50=%s p90=%s p99=%s max=%s\n",
		n, failures, float64(n)/duration.Seconds(), pct(.50), pct(.90), pct(.99), latencies[n-1])
	fmt.Printf("cpu: verifyd=%s load=%s\n", (cpuVerifyd1 - cpuVerifyd0).Round(time.Millisecond), (cpuSelf1 - cpuSelf0).Round(time.Millisecond))
	if *scenario == "captcha" && *pipeline {
		after, err := pipelineRate(*duration / 2)
		if err != nil {
			return err
		}
		endpoint := rate{perSecond: float64(n) / duration.Seconds(), cpuPerOp: (cpuVerifyd1 - cpuVerifyd0 + cpuSelf1 - cpuSelf0) / time.Duration(n)}
		reportCaptcha(endpoint, pipelineBefore, after, pct(.50), pct(.99))
	}
	return nil
}

// smsFlow is one user: a captcha, an SMS request for a fresh number, and a
// wrong verification.
func smsFlow(client *http.Client, rc rueidis.Client, base string) error {
	id := uuid.NewString()
	if err := get(client, base+"/image_codes/"+id+"/", 200); err != nil {
		return err
	}
	answer, err := rc.Do(context.Background(), rc.B().Get().Key("img_"+id).Build()).ToString()
	if err != nil {
		return err
	}
	mobile := fmt.Sprintf("139%08d", rand.IntN(100_000_000))
	if err := post(client, base+"/sms_codes/"+mobile+"/", `{"uuid":"`+id+`","image_code":"`+answer+`"}`, 200); err != nil {
		return err
	}
	return post(client, base+"/sms_codes/"+mobile+"/verify/", `{"sms_code":"000000"}`, 0)
}

func rawGet(c *rawClient, path string, want int) error {
	status, err := c.get(path)
	if err == nil && status != want {
		err = fmt.Errorf("status %d", status)
	}
	return err
}

func get(client *http.Client, u string, want int) error {
	res, err := client.Get(u)
	if err != nil {
		return err
	}
	return drain(res, want)
}

func post(client *http.Client, u, body string, want int) error {
	res, err := client.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	return drain(res, want)
}

func drain(res *http.Response, want int) error {
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if want != 0 && res.StatusCode != want {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	if res.StatusCode >= 500 {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	return nil
}

func waitReady(base string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("verifyd did not become ready within 20s")
}

func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
