// Package test holds end-to-end tests: they build verifyd's binaries, run
// them as real processes against a real Redis and talk to them over HTTP.
package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/adapters/redis/redistest"
)

// binDir holds the binaries built once per test run, in a folder TestMain
// creates and removes, so a run leaves nothing behind in the temp folder.
var binDir struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

// runTests runs the tests with a fresh folder for the binaries and removes it
// afterwards, whatever the outcome.
func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "verifyd-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp folder for the test binaries:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir.dir = dir
	return m.Run()
}

// binary builds ./cmd/<name> once per test process and returns its path.
func binary(t testing.TB, name string) string {
	t.Helper()
	binDir.once.Do(func() {
		cmd := exec.Command("go", "build", "-race", "-o", binDir.dir+"/", "../cmd/...")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binDir.err = fmt.Errorf("go build ../cmd/...: %v\n%s", err, out)
		}
	})
	if binDir.err != nil {
		t.Fatal(binDir.err)
	}
	return filepath.Join(binDir.dir, name)
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// process is a running binary whose output is captured.
type process struct {
	t    testing.TB
	cmd  *exec.Cmd
	base string // http://host:port for servers
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
	err  error
}

// sharedLimits are the limits whose keys every test process shares: all
// tests call from 127.0.0.1 and count against one service-wide budget in the
// one test Redis. start turns them off unless a test sets them, so tests do
// not throttle each other; the limit tests set them explicitly.
var sharedLimits = []string{"VERIFY_LIMIT_IP_CAPTCHA", "VERIFY_LIMIT_IP_SMS", "VERIFY_LIMIT_IP_VERIFY", "VERIFY_LIMIT_GLOBAL_SMS"}

// start runs a binary with env on top of a minimal environment and stops it
// when the test ends.
func start(t testing.TB, name string, env map[string]string) *process {
	t.Helper()
	p := &process{t: t, done: make(chan struct{})}
	p.cmd = exec.Command(binary(t, name))
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for _, k := range sharedLimits {
		if _, set := env[k]; !set {
			p.cmd.Env = append(p.cmd.Env, k+"=off")
		}
	}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	if addr := env["VERIFY_ADDR"]; addr != "" {
		p.base = "http://" + addr
	}
	pr, pw := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.Write(sc.Bytes())
			p.logs.WriteByte('\n')
			p.mu.Unlock()
		}
	}()
	go func() {
		p.err = p.cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(syscall.SIGKILL)
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.output())
		}
	})
	return p
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// stop signals the process and waits for it; it returns the exit error.
func (p *process) stop(sig os.Signal) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Errorf("process did not exit within 30s of %v", sig)
	}
	return p.err
}

// wait waits up to 30 s for the process to exit by itself.
func (p *process) wait() error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(30 * time.Second):
		p.t.Fatal("process still running after 30s")
		return nil
	}
}

// waitReady polls /readyz until it answers 200.
func (p *process) waitReady() {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			p.t.Fatalf("process exited before becoming ready: %v\n%s", p.err, p.output())
		default:
		}
		res, err := http.Get(p.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("not ready within 30s\n%s", p.output())
}

// waitLog waits until a log line matches re and returns the first submatch.
func (p *process) waitLog(re *regexp.Regexp) string {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(p.output()); m != nil {
			return m[len(m)-1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("no log line matching %s\n%s", re, p.output())
	return ""
}

// answer is verifyd's JSON answer.
type answer struct {
	Status     int
	RetryAfter string
	Code       string `json:"code"`
	ErrMsg     string `json:"errmsg"`
}

func call(t testing.TB, method, u string, form url.Values) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	var a answer
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("%s %s: %d %q is not a JSON answer", method, u, res.StatusCode, raw)
	}
	a.Status = res.StatusCode
	a.RetryAfter = res.Header.Get("Retry-After")
	return a
}

func (a answer) want(t testing.TB, status int, code string) {
	t.Helper()
	if a.Status != status || a.Code != code {
		t.Fatalf("got %d %q %q, want %d %q", a.Status, a.Code, a.ErrMsg, status, code)
	}
}

// testRedis returns the test Redis URL and a client to it.
func testRedis(t testing.TB) (string, rueidis.Client) {
	t.Helper()
	return redistest.URL(t), redistest.Client(t)
}

// captchaAnswer reads the answer of a challenge the way only a test can: from
// the store.
func captchaAnswer(t testing.TB, client rueidis.Client, id string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := client.Do(ctx, client.B().Get().Key("img_"+id).Build()).ToString()
	if err != nil {
		t.Fatalf("read captcha answer of %s: %v", id, err)
	}
	return v
}

// testSecret is a code secret for test processes only.
const testSecret = "e2e-secret-e2e-secret-e2e-secret-e2e"

// waitForChange waits until cond holds, checking each time the channel
// changed returns is closed (a fake closes it on every request) and every
// 50 ms for conditions on other state. The 30 s limit only bounds a broken
// test, which fails naming fake, what it waited for and seen().
func waitForChange(t testing.TB, fake, what string, changed func() <-chan struct{}, cond func() bool, seen func() any) {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		next := changed()
		if cond() {
			return
		}
		select {
		case <-next:
		case <-time.After(50 * time.Millisecond):
		case <-deadline.C:
			t.Fatalf("%s: timed out waiting until %s; requests: %+v", fake, what, seen())
		}
	}
}
