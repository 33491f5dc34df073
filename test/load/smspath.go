package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/domain"
)

// loadSecret is the code secret of the verifyd processes the harness starts;
// the verify phases seed code digests made with it.
const loadSecret = "load-test-secret-load-test-secret-0"

// seededCode is the code every seeded phone holds.
const seededCode = "123456"

// target is an HTTP server under load: the floor handler or a verifyd.
type target struct {
	name string
	addr string
	cmd  *exec.Cmd
	xff  bool // send a random X-Forwarded-For per request (limits on)
}

// phase is one kind of request sent to one target.
type phase struct {
	name   string
	target *target
	verify bool // POST .../verify/ with a seeded code; else an SMS request
}

// phaseStats pools one phase's results over the rounds.
type phaseStats struct {
	latencies []time.Duration
	rates     []float64
	failures  map[string]int
	ranOut    bool
}

// item is one request's data, seeded in Redis before its phase.
type item struct{ id, mobile string }

// smsPath compares verifyd's SMS request and verification with the floor
// handler, in interleaved rounds of every phase, at o.clients connections.
type smsPath struct {
	rc      rueidis.Client
	db      int
	clients int
	digest  *domain.CodeDigester
	next    atomic.Int64 // distinct phone numbers across the run
	base    int64
	stats   map[string]*phaseStats
	expect  map[bool]float64 // the highest rate seen per kind, to size the seeding
	started []*exec.Cmd
	env     []string // extra environment of every verifyd started
}

func newSMSPath(rc rueidis.Client, db, clients int) (*smsPath, error) {
	d, err := domain.NewCodeDigester([]byte(loadSecret))
	if err != nil {
		return nil, err
	}
	return &smsPath{rc: rc, db: db, clients: clients, digest: d, base: rand.Int64N(50_000_000),
		stats: map[string]*phaseStats{}, expect: map[bool]float64{false: 15000, true: 15000}}, nil
}

// startFloor starts this program again as the floor server.
func (s *smsPath) startFloor(redisURL string) (*target, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeLoopback()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-serve-floor", addr, "-redis", redisURL)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.started = append(s.started, cmd)
	return &target{name: "floor", addr: addr, cmd: cmd}, waitReady("http://" + addr)
}

// startVerifyd starts a verifyd on the Redis store; extra environment comes last.
func (s *smsPath) startVerifyd(name, bin, redisURL string, xff bool, extra ...string) (*target, error) {
	addr, err := freeLoopback()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), "VERIFY_ADDR="+addr, "VERIFY_STORE=redis", "VERIFY_LOG_LEVEL=error",
		"VERIFY_REDIS_URL="+redisURL, "VERIFY_CODE_SECRET="+loadSecret), append(extra, s.env...)...)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s.started = append(s.started, cmd)
	return &target{name: name, addr: addr, cmd: cmd, xff: xff}, waitReady("http://" + addr)
}

func (s *smsPath) stop() {
	for _, cmd := range s.started {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
}

// seed stores n solved captchas (SMS phases) or n pending codes (verify
// phases) straight in Redis, each for a phone used nowhere else in the run.
func (s *smsPath) seed(ctx context.Context, n int, verify bool) ([]item, error) {
	items := make([]item, n)
	cmds := make(rueidis.Commands, 0, 2*n)
	for i := range items {
		mobile := fmt.Sprintf("139%08d", (s.base+s.next.Add(1))%100_000_000)
		items[i] = item{id: uuid.NewString(), mobile: mobile}
		if !verify {
			cmds = append(cmds, s.rc.B().Set().Key("img_"+items[i].id).Value("abcd").ExSeconds(300).Build())
			continue
		}
		phone, err := domain.NewPhoneNumber("+86"+mobile, "CN", domain.LineMobile)
		if err != nil {
			return nil, err
		}
		key := "sms_{" + phone.E164() + "}"
		cmds = append(cmds,
			s.rc.B().Hset().Key(key).FieldValue().FieldValue("digest", string(s.digest.Digest(phone, seededCode))).FieldValue("attempts", "0").Build(),
			s.rc.B().Pexpire().Key(key).Milliseconds(300_000).Build())
	}
	for chunk := range slices.Chunk(cmds, 2000) {
		for _, r := range s.rc.DoMulti(ctx, chunk...) {
			if err := r.Error(); err != nil {
				return nil, fmt.Errorf("seed: %w", err)
			}
		}
	}
	return items, nil
}

// request sends it's request to t over c and returns the answer's code.
func request(c *rawClient, t *target, verify bool, it item) (string, error) {
	header := ""
	if t.xff {
		header = fmt.Sprintf("X-Forwarded-For: 10.%d.%d.%d\r\n", rand.IntN(256), rand.IntN(256), rand.IntN(256))
	}
	var (
		status int
		body   []byte
		err    error
	)
	if verify {
		status, body, err = c.post("/sms_codes/"+it.mobile+"/verify/", header, `{"sms_code":"`+seededCode+`"}`)
	} else {
		status, body, err = c.post("/sms_codes/"+it.mobile+"/", header, `{"uuid":"`+it.id+`","image_code":"abcd"}`)
	}
	if err != nil {
		return "", err
	}
	if _, rest, ok := bytes.Cut(body, []byte(`"code":"`)); ok {
		if code, _, ok := bytes.Cut(rest, []byte(`"`)); ok {
			return string(code), nil
		}
	}
	return "", fmt.Errorf("status %d, answer %.60q", status, body)
}

// run drives one phase for d with s.clients connections.
func (s *smsPath) run(ctx context.Context, p phase, d time.Duration) error {
	n := int(s.expect[p.verify]*d.Seconds()*1.3) + 2000
	items, err := s.seed(ctx, n, p.verify)
	if err != nil {
		return err
	}
	st := s.stats[p.name]
	if st == nil {
		st = &phaseStats{failures: map[string]int{}}
		s.stats[p.name] = st
	}
	var (
		next   atomic.Int64
		mu     sync.Mutex
		wg     sync.WaitGroup
		ranOut atomic.Bool
	)
	runCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var done int
	for range s.clients {
		wg.Go(func() {
			c := newRawClient(p.target.addr)
			defer c.close()
			var own []time.Duration
			fails := map[string]int{}
			for runCtx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(items)) {
					ranOut.Store(true)
					break
				}
				t0 := time.Now()
				code, err := request(c, p.target, p.verify, items[i])
				if runCtx.Err() != nil {
					break
				}
				switch {
				case err != nil:
					fails[err.Error()]++
				case code != "0":
					fails["code "+code]++
				default:
					own = append(own, time.Since(t0))
				}
			}
			mu.Lock()
			st.latencies = append(st.latencies, own...)
			done += len(own)
			for k, v := range fails {
				st.failures[k] += v
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	r := float64(done) / time.Since(start).Seconds()
	st.rates = append(st.rates, r)
	st.ranOut = st.ranOut || ranOut.Load()
	s.expect[p.verify] = max(s.expect[p.verify], r)
	fmt.Printf("  %-14s %8.0f req/s\n", p.name, r)
	return nil
}

// summary is one phase's pooled figures.
type summary struct {
	rate     float64 // mean of the rounds' rates
	p50, p99 time.Duration
}

func (s *smsPath) summarize(name string) summary {
	st := s.stats[name]
	lat := st.latencies
	slices.Sort(lat)
	var sum float64
	for _, r := range st.rates {
		sum += r
	}
	out := summary{rate: sum / float64(len(st.rates))}
	if len(lat) > 0 {
		out.p50 = lat[len(lat)/2]
		out.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return out
}

// report prints each phase and its ratio to the floor, per round and pooled.
func (s *smsPath) report(phases []phase) {
	floor := s.summarize("floor")
	fmt.Printf("%-14s %9s %9s %9s %12s %10s  %s\n", "phase", "req/s", "p50", "p99", "rate/floor", "p99/floor", "per-round rate/floor")
	for _, p := range phases {
		sm := s.summarize(p.name)
		st := s.stats[p.name]
		var rounds []string
		for i, r := range st.rates {
			rounds = append(rounds, strconv.FormatFloat(r/s.stats["floor"].rates[i], 'f', 2, 64))
		}
		fmt.Printf("%-14s %9.0f %9s %9s %11.2fx %9.2fx  %v\n", p.name, sm.rate, sm.p50.Round(10*time.Microsecond),
			sm.p99.Round(10*time.Microsecond), sm.rate/floor.rate, float64(sm.p99)/float64(floor.p99), rounds)
		if len(st.failures) > 0 {
			fmt.Printf("  failures: %v\n", st.failures)
		}
		if st.ranOut {
			fmt.Printf("  (ran out of seeded items in a round: its rate is a floor)\n")
		}
	}
	for _, p := range phases[1:] {
		sm := s.summarize(p.name)
		// One line per phase for test/bench-goals.awk.
		fmt.Printf("GOAL %s rate/floor=%.3f p99/floor=%.3f\n", p.name, sm.rate/floor.rate, float64(sm.p99)/float64(floor.p99))
	}
}
