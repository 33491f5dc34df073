package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// limitsOff lifts every abuse limit, so the load is not refused.
var limitsOff = []string{"VERIFY_LIMIT_IP_CAPTCHA=off", "VERIFY_LIMIT_IP_SMS=off", "VERIFY_LIMIT_IP_VERIFY=off",
	"VERIFY_LIMIT_GLOBAL_SMS=off", "VERIFY_LIMIT_PHONE_SMS=off"}

// limitsOn keeps the default limits, each request coming from an address of
// its own through a trusted proxy, and raises only the service-wide budget,
// which any load would exhaust; it is still counted.
var limitsOn = []string{"VERIFY_TRUSTED_PROXIES=127.0.0.1/32", "VERIFY_LIMIT_GLOBAL_SMS=100000000/1h"}

// runSMSPath measures the SMS request and verification paths of verifyd
// against the floor handler (scenario smspath), or with soak only verifyd's
// two paths for the whole duration while sampling its memory.
//
// binB, when set, is a second verifyd build measured in the same rounds
// (phases sms-b and verify-b, limits off), to compare two versions of it.
func runSMSPath(bin, binB, redisURL string, verifydEnv []string, clients, rounds int, duration time.Duration, soak bool) error {
	u, err := url.Parse(redisURL)
	if err != nil || !isLoopback(u.Hostname()) {
		return fmt.Errorf("-redis %q: want a loopback URL", redisURL)
	}
	db, _ := strconv.Atoi(strings.TrimPrefix(u.Path, "/"))
	opt, err := rueidis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	opt.DisableCache = true
	rc, err := rueidis.NewClient(opt)
	if err != nil {
		return err
	}
	defer rc.Close()
	s, err := newSMSPath(rc, db, clients)
	if err != nil {
		return err
	}
	defer s.stop()
	s.env = verifydEnv
	ctx := context.Background()

	off, err := s.startVerifyd("verifyd", bin, redisURL, false, limitsOff...)
	if err != nil {
		return err
	}
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	rss := sampleRSS(sctx, off.cmd.Process.Pid, 250*time.Millisecond)
	var phases []phase
	if soak {
		phases = []phase{{"sms", off, false}, {"verify", off, true}}
	} else {
		floor, err := s.startFloor(redisURL)
		if err != nil {
			return err
		}
		on, err := s.startVerifyd("verifyd-limits", bin, redisURL, true, limitsOn...)
		if err != nil {
			return err
		}
		phases = []phase{{"floor", floor, false}, {"sms", off, false}, {"verify", off, true},
			{"sms+limits", on, false}, {"verify+limits", on, true}}
		if binB != "" {
			b, err := s.startVerifyd("verifyd-b", binB, redisURL, false, limitsOff...)
			if err != nil {
				return err
			}
			phases = append(phases, phase{"sms-b", b, false}, phase{"verify-b", b, true})
		}
	}
	each := duration / time.Duration(rounds*len(phases))
	fmt.Printf("scenario=smspath clients=%d rounds=%d phase=%s soak=%v %s\n", clients, rounds, each, soak, loadAverage())
	// A short warm-up of every phase: connections, scripts loaded, pools grown.
	for _, p := range phases {
		if err := s.run(ctx, p, min(each, 500*time.Millisecond)); err != nil {
			return err
		}
	}
	clear(s.stats)
	for r := range rounds {
		fmt.Printf("round %d\n", r+1)
		for _, p := range phases {
			if err := s.run(ctx, p, each); err != nil {
				return err
			}
		}
	}
	stopSampling()
	<-rss.done
	if soak {
		for _, p := range phases {
			sm := s.summarize(p.name)
			fmt.Printf("%-8s %8.0f req/s p50=%s p99=%s failures=%v\n", p.name, sm.rate, sm.p50, sm.p99, s.stats[p.name].failures)
		}
		fmt.Printf("verifyd RSS: %s\n", rss.summary(20*time.Second))
		fmt.Printf("GOAL rss-peak-mb=%.1f\n", rss.peakMB())
		return nil
	}
	s.report(phases)
	fmt.Printf("verifyd RSS (limits off, during the rounds): %s\n", rss.summary(0))
	fmt.Printf("GOAL rss-peak-mb=%.1f\n", rss.peakMB())
	if err := s.countTrips(ctx, u.Host, phases); err != nil {
		return err
	}
	return s.redisMemory(ctx, phases[3].target)
}

// countTrips sends 100 requests of each phase, one at a time, and counts the
// Redis commands they caused.
func (s *smsPath) countTrips(ctx context.Context, redisAddr string, phases []phase) error {
	const n = 100
	mon, err := startMonitor(redisAddr, s.db)
	if err != nil {
		return err
	}
	defer mon.close()
	fmt.Printf("Redis round trips per request (MONITOR, %d sequential requests each):\n", n)
	for _, p := range phases {
		items, err := s.seed(ctx, n, p.verify)
		if err != nil {
			return err
		}
		begin, end := "mark:begin:"+p.name, "mark:end:"+p.name
		if err := s.rc.Do(ctx, s.rc.B().Echo().Message(begin).Build()).Error(); err != nil {
			return err
		}
		c := newRawClient(p.target.addr)
		for _, it := range items {
			if code, err := request(c, p.target, p.verify, it); err != nil || code != "0" {
				c.close()
				return fmt.Errorf("%s: answer %q, %v", p.name, code, err)
			}
		}
		c.close()
		if err := s.rc.Do(ctx, s.rc.B().Echo().Message(end).Build()).Error(); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = mon.waitMark(wctx, end)
		cancel()
		if err != nil {
			return err
		}
		fmt.Printf("  %-14s %s\n", p.name, formatTrips(mon.between(begin, end), n))
	}
	return nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return "loadavg=" + strings.Join(f[:3], ",")
}
