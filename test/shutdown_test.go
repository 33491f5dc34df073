package test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestShutdown_InFlightRequestIsAnsweredAndItsSMSDeliveredBeforeExit sends
// SIGTERM while an SMS request is half received: verifyd stops taking
// connections, still answers that request (200, not a reset), sends its SMS,
// and exits 0 within VERIFY_SHUTDOWN_TIMEOUT. An idle keep-alive connection
// does not hold the exit up.
func TestShutdown_InFlightRequestIsAnsweredAndItsSMSDeliveredBeforeExit(t *testing.T) {
	const shutdownTimeout = 5 * time.Second
	redisURL, rc := testRedis(t)
	p := start(t, "verifyd", map[string]string{
		"VERIFY_ADDR":             freeAddr(t),
		"VERIFY_STORE":            "redis",
		"VERIFY_REDIS_URL":        redisURL,
		"VERIFY_CODE_SECRET":      testSecret,
		"VERIFY_SMS_PROVIDER":     "log",
		"VERIFY_SHUTDOWN_TIMEOUT": shutdownTimeout.String(),
	})
	p.waitReady()
	addr := strings.TrimPrefix(p.base, "http://")
	mobile := randomMobile(t)
	id := getImage(t, p.base, uuid.NewString())
	body := url.Values{"uuid": {id}, "image_code": {captchaAnswer(t, rc, id)}}.Encode()

	// An idle keep-alive connection, and one that a first request proves
	// accepted and served before the slow request starts on it.
	idle := dialServed(t, addr)
	conn := dialServed(t, addr)
	fmt.Fprintf(conn.w, "POST /sms_codes/%s/ HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		mobile, addr, len(body), body[:len(body)/2])
	if err := conn.w.Flush(); err != nil {
		t.Fatal(err)
	}
	waitServerRead(t, conn) // the server has the headers and the first half

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sigterm := time.Now()
	waitRefused(t, addr) // shutdown has begun: new connections are refused

	if _, err := conn.w.WriteString(body[len(body)/2:]); err != nil {
		t.Fatalf("second half of the body: %v", err)
	}
	if err := conn.w.Flush(); err != nil {
		t.Fatalf("second half of the body: %v", err)
	}
	a, err := conn.readAnswer()
	if err != nil {
		t.Fatalf("in-flight request during shutdown: %v", err)
	}
	a.want(t, 200, "0")

	if err := p.wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want 0\n%s", err, p.output())
	}
	if took := time.Since(sigterm); took > shutdownTimeout {
		t.Errorf("exited %v after SIGTERM, want within VERIFY_SHUTDOWN_TIMEOUT=%v", took, shutdownTimeout)
	} else {
		t.Logf("exited 0, %v after SIGTERM (a -race binary sleeps 1 s at exit)", took.Round(time.Millisecond))
	}
	if !codeLine(mobile).MatchString(p.output()) {
		t.Errorf("the SMS accepted during shutdown was not sent before exit:\n%s", p.output())
	}
	if _, err := idle.r.ReadByte(); err == nil {
		t.Error("idle keep-alive connection got bytes instead of being closed")
	}
}

// TestShutdown_QueuedSMSAreDeliveredBeforeExit holds one send at a slow SMS
// provider while two more messages wait behind it (one outbox worker), then
// sends SIGTERM: verifyd waits for the held send, sends the queued ones and
// only then exits 0.
func TestShutdown_QueuedSMSAreDeliveredBeforeExit(t *testing.T) {
	redisURL, rc := testRedis(t)
	provider := newFakeProvider(t)
	env := map[string]string{
		"VERIFY_ADDR":             freeAddr(t),
		"VERIFY_STORE":            "redis",
		"VERIFY_REDIS_URL":        redisURL,
		"VERIFY_CODE_SECRET":      testSecret,
		"VERIFY_SMS_WORKERS":      "1",
		"VERIFY_SHUTDOWN_TIMEOUT": "10s",
	}
	for k, v := range provider.Env() {
		env[k] = v
	}
	p := start(t, "verifyd", env)
	p.waitReady()

	mobiles := []string{randomMobile(t), randomMobile(t), randomMobile(t)}
	held := provider.Hold("+86" + mobiles[0])
	for i, m := range mobiles {
		id := getImage(t, p.base, uuid.NewString())
		call(t, "POST", p.base+"/sms_codes/"+m+"/", url.Values{"uuid": {id}, "image_code": {captchaAnswer(t, rc, id)}}).want(t, 200, "0")
		if i == 0 {
			select {
			case <-held.arrived:
			case <-time.After(15 * time.Second):
				t.Fatal("the first SMS never reached the provider")
			}
		}
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, strings.TrimPrefix(p.base, "http://"))
	// Nothing is to happen until the held send is answered, so this watches
	// for a wrong exit, or for the send being dropped, for a while: a slow
	// machine can only make the check less sharp, never fail a right
	// verifyd. (A send dropped or an exit later still fails below: the held
	// message would not be created.)
	select {
	case <-p.done:
		t.Fatalf("exited while an SMS was still being sent: %v\n%s", p.err, p.output())
	case <-held.gone:
		t.Fatalf("the SMS being sent was dropped at shutdown\n%s", p.output())
	case <-time.After(500 * time.Millisecond):
	}
	held.Release(replyCreated)

	if err := p.wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want 0\n%s", err, p.output())
	}
	for _, m := range mobiles {
		if n := provider.Created("+86" + m); n != 1 {
			t.Errorf("%d messages created for one of the phones before exit, want 1", n)
		}
	}
}

// TestShutdown_StalledRequestDoesNotKeepTheProcessPastTheTimeout: a client
// that stops sending in the middle of its body cannot hold verifyd up for
// longer than VERIFY_SHUTDOWN_TIMEOUT.
func TestShutdown_StalledRequestDoesNotKeepTheProcessPastTheTimeout(t *testing.T) {
	const shutdownTimeout = time.Second
	p := start(t, "verifyd", map[string]string{
		"VERIFY_ADDR":             freeAddr(t),
		"VERIFY_SHUTDOWN_TIMEOUT": shutdownTimeout.String(),
	})
	p.waitReady()
	addr := strings.TrimPrefix(p.base, "http://")
	conn := dialServed(t, addr)
	fmt.Fprintf(conn.w, "POST /sms_codes/%s/verify/ HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nsms_co",
		randomMobile(t), addr)
	if err := conn.w.Flush(); err != nil {
		t.Fatal(err)
	}
	waitServerRead(t, conn)

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sigterm := time.Now()
	// The server's 5 s read timeout would end the stalled request at about
	// 4.7 s from here; the shutdown timeout must end it first.
	const bound = shutdownTimeout + 2500*time.Millisecond
	select {
	case <-p.done:
	case <-time.After(bound):
		t.Fatalf("still running %v after SIGTERM with VERIFY_SHUTDOWN_TIMEOUT=%v", bound, shutdownTimeout)
	}
	t.Logf("exited %v after SIGTERM (%v)", time.Since(sigterm).Round(time.Millisecond), p.err)
}

// servedConn is a raw HTTP/1.1 connection to verifyd.
type servedConn struct {
	net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

// dialServed opens a connection and has one request answered on it, so the
// server has surely accepted it; the connection is kept alive.
func dialServed(t testing.TB, addr string) *servedConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	sc := &servedConn{Conn: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}
	fmt.Fprintf(sc.w, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	if err := sc.w.Flush(); err != nil {
		t.Fatal(err)
	}
	a, err := sc.readAnswer()
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	a.want(t, 200, "0")
	return sc
}

// readAnswer reads one response and decodes verifyd's JSON answer.
func (c *servedConn) readAnswer() (answer, error) {
	res, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		return answer{}, fmt.Errorf("%d %q is not a JSON answer", res.StatusCode, raw)
	}
	a.Status = res.StatusCode
	return a, nil
}

// waitRefused waits until addr refuses new connections: the server has
// closed its listener.
func waitRefused(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s still accepts connections 5 s after SIGTERM", addr)
}

// waitServerRead waits until the server has read every byte sent on c: the
// kernel's receive queue of the server's end of the connection, in
// /proc/net/tcp, is empty. Linux only, like the rest of these tests.
func waitServerRead(t testing.TB, c *servedConn) {
	t.Helper()
	server, err1 := netip.ParseAddrPort(c.RemoteAddr().String())
	client, err2 := netip.ParseAddrPort(c.LocalAddr().String())
	if err1 != nil || err2 != nil || !server.Addr().Is4() {
		t.Fatalf("want an IPv4 connection, have %v -> %v", c.LocalAddr(), c.RemoteAddr())
	}
	local, remote := procTCPAddr(server), procTCPAddr(client)
	deadline := time.Now().Add(10 * time.Second)
	for {
		table, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			t.Fatalf("read /proc/net/tcp: %v", err)
		}
		queued := int64(-1)
		for _, line := range strings.Split(string(table), "\n")[1:] {
			// sl local_address rem_address st tx_queue:rx_queue ...
			f := strings.Fields(line)
			if len(f) > 4 && f[1] == local && f[2] == remote {
				_, rx, _ := strings.Cut(f[4], ":")
				queued, _ = strconv.ParseInt(rx, 16, 64)
			}
		}
		if queued == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server has not read what was sent on %v within 10s (%d bytes queued)", c.LocalAddr(), queued)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// procTCPAddr writes an IPv4 address and port as /proc/net/tcp does: the
// address as a little-endian 32-bit hex number, the port in hex.
func procTCPAddr(ap netip.AddrPort) string {
	a := ap.Addr().As4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", a[3], a[2], a[1], a[0], ap.Port())
}
