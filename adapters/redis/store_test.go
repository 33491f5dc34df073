package redis_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/redis/redistest"
	"github.com/lemonmall/verifyd/adapters/storetest"
	"github.com/lemonmall/verifyd/domain"
)

// failFast bounds every call expected to fail: a store that cannot reach
// Redis must say so, not hang the request.
const failFast = 5 * time.Second

func TestStore_Contract(t *testing.T) {
	client := redistest.Client(t)
	storetest.Run(t, func(*testing.T) storetest.Store { return redis.NewStore(client) })
}

func TestStore_Ping(t *testing.T) {
	if err := redis.NewStore(redistest.Client(t)).Ping(t.Context()); err != nil {
		t.Fatalf("Ping = %v, want nil", err)
	}
}

// The captcha key and value are the Django seed's, and TTLs reach Redis in
// milliseconds (not nanoseconds, not truncated to seconds).
func TestStore_UsesSeedKeysAndMillisecondTTLs(t *testing.T) {
	client := redistest.Client(t)
	s := redis.NewStore(client)
	ctx := t.Context()
	id := domain.ChallengeID("6f1c2a4e-3b7d-4c8e-9a0b-" + randomHex(t, 12))

	if err := s.SaveChallenge(ctx, id, "ab3d", 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	got, err := client.Do(ctx, client.B().Get().Key("img_"+string(id)).Build()).ToString()
	if err != nil || got != "ab3d" {
		t.Fatalf("GET img_<uuid> = %q, %v; want the plain answer %q", got, err, "ab3d")
	}
	wantPTTL(t, client, "img_"+string(id), 1500*time.Millisecond)

	phone, err := domain.NewPhoneNumber("+86138"+randomDigits(t, 8), "CN", domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}
	digest := []byte("\x00\xffdigest")
	if err := s.IssueCode(ctx, phone, domain.NewCode{Digest: digest, TTL: 90 * time.Second, ResendInterval: 2500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	codeKey, flagKey := "sms_{"+phone.E164()+"}", "send_flag_{"+phone.E164()+"}"
	fields, err := client.Do(ctx, client.B().Hgetall().Key(codeKey).Build()).AsStrMap()
	if err != nil {
		t.Fatal(err)
	}
	if fields["digest"] != string(digest) || fields["attempts"] != "0" || len(fields) != 2 {
		t.Fatalf("HGETALL %s = %q, want digest and attempts 0", codeKey, fields)
	}
	wantPTTL(t, client, codeKey, 90*time.Second)
	wantPTTL(t, client, flagKey, 2500*time.Millisecond)

	// A sub-millisecond duration is rounded up, never sent as PX 0.
	other := domain.ChallengeID("6f1c2a4e-3b7d-4c8e-9a0b-" + randomHex(t, 12))
	if err := s.SaveChallenge(ctx, other, "ab3d", time.Microsecond); err != nil {
		t.Fatalf("SaveChallenge with a 1µs TTL = %v, want nil", err)
	}
}

func wantPTTL(t *testing.T, client rueidis.Client, key string, ttl time.Duration) {
	t.Helper()
	ms, err := client.Do(t.Context(), client.B().Pttl().Key(key).Build()).AsInt64()
	if err != nil {
		t.Fatal(err)
	}
	got := time.Duration(ms) * time.Millisecond
	if got <= ttl-time.Second || got > ttl {
		t.Fatalf("PTTL %s = %v, want just under %v", key, got, ttl)
	}
}

// A key of the wrong type is a bug, not an outage: it must not be reported as
// ErrStoreUnavailable, which would make clients retry forever.
func TestStore_ErrorReplyIsNotUnavailable(t *testing.T) {
	client := redistest.Client(t)
	s := redis.NewStore(client)
	phone, err := domain.NewPhoneNumber("+86138"+randomDigits(t, 8), "CN", domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}
	key := "sms_{" + phone.E164() + "}"
	if err := client.Do(t.Context(), client.B().Set().Key(key).Value("x").Px(time.Minute).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	_, err = s.AttemptCode(t.Context(), phone, 5)
	if err == nil || errors.Is(err, domain.ErrStoreUnavailable) || errors.Is(err, domain.ErrCodeNotFound) {
		t.Fatalf("AttemptCode on a string key = %v, want a plain Redis error", err)
	}
	if !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Fatalf("AttemptCode error %q does not keep the cause", err)
	}
}

func TestStore_ClosedClientIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), failFast)
	defer cancel()
	client, err := redis.Dial(ctx, redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	client.Close()
	wantUnavailable(t, redis.NewStore(client))
}

func TestDial_UnreachableRedisIsUnavailable(t *testing.T) {
	addr := closedPort(t)
	ctx, cancel := context.WithTimeout(t.Context(), failFast)
	defer cancel()
	start := time.Now()
	client, err := redis.Dial(ctx, "redis://"+addr+"/0")
	if err == nil {
		client.Close()
		t.Fatal("Dial to a closed port = nil error")
	}
	t.Log(err)
	if !errors.Is(err, domain.ErrStoreUnavailable) {
		t.Fatalf("Dial to a closed port = %v, want ErrStoreUnavailable", err)
	}
	if elapsed := time.Since(start); elapsed > failFast {
		t.Fatalf("Dial took %v to fail", elapsed)
	}
}

func TestDial_SilentServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	t.Cleanup(func() { ln.Close(); conns.Wait() })
	conns.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			// Read and never answer, until the client gives up.
			conns.Go(func() { io.Copy(io.Discard, conn); conn.Close() })
		}
	})

	ctx, cancel := context.WithTimeout(t.Context(), 2*failFast)
	defer cancel()
	start := time.Now()
	client, err := redis.Dial(ctx, "redis://"+ln.Addr().String()+"/0")
	if err == nil {
		client.Close()
		t.Fatal("Dial to a silent server = nil error")
	}
	t.Log(err)
	if !errors.Is(err, domain.ErrStoreUnavailable) {
		t.Fatalf("Dial to a silent server = %v, want ErrStoreUnavailable", err)
	}
	if elapsed := time.Since(start); elapsed > 2*failFast {
		t.Fatalf("Dial took %v to fail", elapsed)
	}
}

// When Redis goes away under a connected client, calls fail with
// ErrStoreUnavailable instead of hanging.
func TestStore_LostConnectionIsUnavailable(t *testing.T) {
	u, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Has("addr") {
		t.Fatal("this test needs a single-node Redis URL, not one with ?addr= seeds")
	}
	proxy := startProxy(t, u.Host)
	u.Host = proxy.Addr()

	ctx, cancel := context.WithTimeout(t.Context(), failFast)
	defer cancel()
	client, err := redis.Dial(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	s := redis.NewStore(client)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping through the proxy = %v", err)
	}

	proxy.Stop()
	wantUnavailable(t, s)
}

func wantUnavailable(t *testing.T, s *redis.Store) {
	t.Helper()
	phone, err := domain.NewPhoneNumber("+8613800138000", "CN", domain.LineMobile)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func(context.Context) error{
		"Ping": s.Ping,
		"SaveChallenge": func(ctx context.Context) error {
			return s.SaveChallenge(ctx, "6f1c2a4e-3b7d-4c8e-9a0b-000000000000", "ab3d", time.Minute)
		},
		"TakeChallenge": func(ctx context.Context) error {
			_, err := s.TakeChallenge(ctx, "6f1c2a4e-3b7d-4c8e-9a0b-000000000000")
			return err
		},
		"IssueCode": func(ctx context.Context) error {
			return s.IssueCode(ctx, phone, domain.NewCode{Digest: []byte("d"), TTL: time.Minute, ResendInterval: time.Minute})
		},
		"AttemptCode": func(ctx context.Context) error {
			_, err := s.AttemptCode(ctx, phone, 5)
			return err
		},
		"ConsumeCode": func(ctx context.Context) error {
			_, err := s.ConsumeCode(ctx, phone, []byte("d"))
			return err
		},
	}
	for name, call := range calls {
		ctx, cancel := context.WithTimeout(t.Context(), failFast)
		start := time.Now()
		err := call(ctx)
		cancel()
		t.Logf("%s: %v", name, err)
		if !errors.Is(err, domain.ErrStoreUnavailable) {
			t.Errorf("%s = %v, want ErrStoreUnavailable", name, err)
		}
		if elapsed := time.Since(start); elapsed >= failFast {
			t.Errorf("%s took %v to fail", name, elapsed)
		}
	}
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// proxy forwards TCP connections to a target until stopped, so a test can cut
// a live client off its server.
type proxy struct {
	ln      net.Listener
	mu      sync.Mutex
	stopped bool
	conns   []net.Conn
	wg      sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveProxy(t, ln, target)
}

// serveProxy forwards the connections ln accepts to target.
func serveProxy(t *testing.T, ln net.Listener, target string) *proxy {
	t.Helper()
	p := &proxy{ln: ln}
	p.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.DialTimeout("tcp", target, time.Second)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			if p.stopped {
				p.mu.Unlock()
				in.Close()
				out.Close()
				return
			}
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			p.wg.Go(func() { io.Copy(out, in); out.Close() })
			p.wg.Go(func() { io.Copy(in, out); in.Close() })
		}
	})
	t.Cleanup(p.Stop)
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

// Stop closes the listener and every forwarded connection, like a server
// going down.
func (p *proxy) Stop() {
	p.ln.Close()
	p.mu.Lock()
	p.stopped = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	const hex = "0123456789abcdef"
	return randomFrom(t, n, hex)
}

func randomDigits(t *testing.T, n int) string {
	t.Helper()
	return randomFrom(t, n, domain.Digits)
}

func randomFrom(t *testing.T, n int, alphabet string) string {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// After Redis comes back (restarted, or a proxy in between cut every
// connection), the first call of every kind succeeds: a command that finds
// its pooled connection dropped is sent again on a fresh one instead of
// answering 503 once per stale connection.
func TestStore_FirstCallsAfterLostConnectionsSucceed(t *testing.T) {
	u, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Has("addr") {
		t.Fatal("this test needs a single-node Redis URL, not one with ?addr= seeds")
	}
	target := u.Host
	proxy := startProxy(t, target)
	u.Host = proxy.Addr()
	ctx, cancel := context.WithTimeout(t.Context(), failFast)
	defer cancel()
	client, err := redis.Dial(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	s := redis.NewStore(client)
	limiter := redis.NewLimiter(client)

	const repeats = 8
	for round := range 3 {
		// Enough calls that every pipelined connection of the client is open,
		// and challenges to take after the cut.
		var ids []domain.ChallengeID
		for range 50 {
			id := newID(t)
			if err := s.SaveChallenge(ctx, id, "ab3d", time.Minute); err != nil {
				t.Fatalf("round %d, before the cut: %v", round, err)
			}
			ids = append(ids, id)
		}
		proxy.Stop()
		proxy = restartProxy(t, proxy.Addr(), target)

		phones := make([]domain.PhoneNumber, repeats)
		for i := range phones {
			if phones[i], err = domain.NewPhoneNumber("+86138"+randomDigits(t, 8), "CN", domain.LineMobile); err != nil {
				t.Fatal(err)
			}
		}
		code := domain.NewCode{Digest: []byte("d"), TTL: time.Minute, ResendInterval: time.Minute}
		calls := []struct {
			name string
			call func(ctx context.Context, i int) error
		}{
			{"Ping", func(ctx context.Context, _ int) error { return s.Ping(ctx) }},
			{"TakeChallenge", func(ctx context.Context, i int) error { _, err := s.TakeChallenge(ctx, ids[i]); return err }},
			{"SaveChallenge", func(ctx context.Context, _ int) error { return s.SaveChallenge(ctx, newID(t), "ab3d", time.Minute) }},
			{"IssueCode", func(ctx context.Context, i int) error { return s.IssueCode(ctx, phones[i], code) }},
			{"AttemptCode", func(ctx context.Context, i int) error { _, err := s.AttemptCode(ctx, phones[i], 5); return err }},
			{"ConsumeCode", func(ctx context.Context, i int) error {
				_, err := s.ConsumeCode(ctx, phones[i], []byte("x"))
				return err
			}},
			{"WithdrawCode", func(ctx context.Context, i int) error { return s.WithdrawCode(ctx, phones[i], code.Digest) }},
			{"Take", func(ctx context.Context, _ int) error {
				return limiter.Take(ctx, "test:"+randomHex(t, 16), []domain.Quota{{Max: 1, Window: time.Minute}})
			}},
		}
		for _, c := range calls {
			// Each kind of call several times: every call picks one pooled
			// connection at random, so each kind may meet a stale one.
			for i := range repeats {
				if err := c.call(ctx, i); err != nil {
					t.Fatalf("round %d: %s after the connections were cut and Redis answers again: %v", round, c.name, err)
				}
			}
		}
	}
}

func newID(t *testing.T) domain.ChallengeID {
	t.Helper()
	return domain.ChallengeID("6f1c2a4e-3b7d-4c8e-9a0b-" + randomHex(t, 12))
}

// restartProxy listens again on addr, which a stopped proxy held, as a
// restarted Redis does on its port.
func restartProxy(t *testing.T, addr, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	return serveProxy(t, ln, target)
}
