package test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/adapters/logtest"
	"github.com/lemonmall/verifyd/adapters/redis"
)

// Private redis-servers listen on loopback ports from this range; a cluster
// node also needs its bus port, port+10000. The shared test Redis on 6379 is
// never touched.
const (
	redisPortLow  = 7100
	redisPortHigh = 7199
	clusterBusGap = 10000
)

// redisStartTimeout bounds one redis-server start.
const redisStartTimeout = 10 * time.Second

// usedRedisPorts are the ports this test process has handed out, so two tests
// never get the same one and a killed server's port stays its own for a
// restart. Other processes (parallel test packages) are detected when the
// server fails to bind, and another port is tried.
var usedRedisPorts = struct {
	sync.Mutex
	m map[int]bool
}{m: map[int]bool{}}

// redisServer is a redis-server process private to one test, started in a
// temporary directory with persistence off and killed when the test ends.
type redisServer struct {
	t    testing.TB
	port int
	dir  string
	args []string // on top of the port and the defaults

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	out    *logtest.Buffer
}

// startRedis starts a redis-server on a free port of the range, with extra
// arguments such as "--cluster-enabled", "yes".
func startRedis(t testing.TB, extra ...string) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is needed for this test: %v", err)
	}
	cluster := false
	for i, a := range extra {
		if a == "--cluster-enabled" && i+1 < len(extra) && extra[i+1] == "yes" {
			cluster = true
		}
	}
	r := &redisServer{t: t, dir: t.TempDir(), args: extra}
	t.Cleanup(func() {
		r.kill()
		releaseRedisPort(r.port)
		if t.Failed() {
			t.Logf("redis-server :%d output:\n%s", r.port, r.output())
		}
	})
	var errs []error
	for range 20 {
		port, ok := reserveRedisPort(cluster)
		if !ok {
			break
		}
		r.port = port
		err := r.launch()
		if err == nil {
			return r
		}
		errs = append(errs, err)
		releaseRedisPort(port)
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatalf("cannot start a redis-server on a port in %d-%d: %v", redisPortLow, redisPortHigh, errors.Join(errs...))
	return nil
}

var errPortTaken = errors.New("port taken")

// reserveRedisPort picks a port of the range that nothing listens on (nor on
// its bus port, for a cluster node) and that no other test here holds.
func reserveRedisPort(cluster bool) (int, bool) {
	usedRedisPorts.Lock()
	defer usedRedisPorts.Unlock()
	n := redisPortHigh - redisPortLow + 1
	first := rand.IntN(n)
	for i := range n {
		port := redisPortLow + (first+i)%n
		if usedRedisPorts.m[port] || !portFree(port) || (cluster && !portFree(port+clusterBusGap)) {
			continue
		}
		usedRedisPorts.m[port] = true
		return port, true
	}
	return 0, false
}

func releaseRedisPort(port int) {
	usedRedisPorts.Lock()
	defer usedRedisPorts.Unlock()
	delete(usedRedisPorts.m, port)
}

func portFree(port int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// Addr is host:port.
func (r *redisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// URL is the server's database 0, the only one a cluster has.
func (r *redisServer) URL() string { return "redis://" + r.Addr() }

func (r *redisServer) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.out == nil {
		return ""
	}
	return r.out.String()
}

// launch runs redis-server on r.port and waits until that very process
// answers; errPortTaken when another process holds the port.
func (r *redisServer) launch() error {
	args := append([]string{
		"--port", strconv.Itoa(r.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", r.dir,
		"--daemonize", "no",
		"--loglevel", "warning",
	}, r.args...)
	cmd := exec.Command("redis-server", args...)
	cmd.Dir = r.dir
	out := &logtest.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	r.mu.Lock()
	r.cmd, r.exited, r.out = cmd, exited, out
	r.mu.Unlock()

	deadline := time.Now().Add(redisStartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			if strings.Contains(out.String(), "Address already in use") {
				return fmt.Errorf("redis-server on :%d: %w", r.port, errPortTaken)
			}
			return fmt.Errorf("redis-server on :%d exited at start:\n%s", r.port, out.String())
		default:
		}
		// The answer must come from this process, not from a server that
		// another test package started on the port meanwhile.
		if info, err := respDo(r.Addr(), "INFO", "server"); err == nil {
			if infoField(info, "process_id") == strconv.Itoa(cmd.Process.Pid) {
				return nil
			}
			r.kill()
			return fmt.Errorf("redis-server on :%d: %w by another server", r.port, errPortTaken)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.kill()
	return fmt.Errorf("redis-server on :%d did not answer within %s:\n%s", r.port, redisStartTimeout, out.String())
}

// kill stops the server at once (SIGKILL: no save, no goodbye to clients)
// and waits for it to exit. Killing a stopped server does nothing.
func (r *redisServer) kill() {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Kill()
	<-exited
}

// signal sends sig to the running server: SIGSTOP makes a Redis that
// accepts connections but never answers, SIGCONT wakes it.
func (r *redisServer) signal(sig os.Signal) {
	r.t.Helper()
	r.mu.Lock()
	cmd := r.cmd
	r.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil {
		r.t.Fatalf("signal redis-server: %v", err)
	}
}

// restart starts a killed server again on the same port, empty.
func (r *redisServer) restart() {
	r.t.Helper()
	r.kill()
	var err error
	for range 50 {
		if err = r.launch(); err == nil || !errors.Is(err, errPortTaken) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("restart redis-server: %v", err)
	}
}

// dial connects a rueidis client, closed when the test ends.
func dialRedis(t testing.TB, url string) rueidis.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := redis.Dial(ctx, url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(client.Close)
	return client
}

// redisCluster is a Redis Cluster of private servers.
type redisCluster struct {
	masters  []*redisServer
	replicas []*redisServer // replicas[i] follows masters[i%len(masters)]
}

// nodes returns every server, masters first.
func (c *redisCluster) nodes() []*redisServer {
	return append(append([]*redisServer(nil), c.masters...), c.replicas...)
}

func startClusterNode(t testing.TB) *redisServer {
	t.Helper()
	return startRedis(t,
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", "2000",
	)
}

// startRedisCluster starts masters servers, splits the 16384 slots between
// them, adds replicasPerMaster replicas to each, introduces them all to each
// other and waits until every node says cluster_state:ok and knows the
// others, and every replica is in sync with its master.
func startRedisCluster(t testing.TB, masters, replicasPerMaster int) *redisCluster {
	t.Helper()
	c := &redisCluster{}
	for range masters {
		c.masters = append(c.masters, startClusterNode(t))
	}
	for range masters * replicasPerMaster {
		c.replicas = append(c.replicas, startClusterNode(t))
	}
	const slots = 16384
	for i, node := range c.masters {
		lo, hi := i*slots/masters, (i+1)*slots/masters-1
		mustRESP(t, node, "CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i+1))
		mustRESP(t, node, "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(lo), strconv.Itoa(hi))
	}
	for _, node := range c.nodes()[1:] {
		mustRESP(t, c.masters[0], "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(node.port))
	}
	for i, replica := range c.replicas {
		master := c.masters[i%masters]
		id := mustRESP(t, master, "CLUSTER", "MYID")
		// The replica must have heard of its master through gossip first.
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err := respDo(replica.Addr(), "CLUSTER", "REPLICATE", id)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("CLUSTER REPLICATE on %s: %v", replica.Addr(), err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	c.waitOK(t, c.nodes(), 20*time.Second)
	return c
}

func mustRESP(t testing.TB, node *redisServer, args ...string) string {
	t.Helper()
	v, err := respDo(node.Addr(), args...)
	if err != nil {
		t.Fatalf("%s: %s: %v", node.Addr(), strings.Join(args, " "), err)
	}
	return v
}

// waitOK waits until every one of nodes is healthy.
func (c *redisCluster) waitOK(t testing.TB, nodes []*redisServer, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, seen := c.healthy(nodes)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not ok within %s; last seen:\n%s", timeout, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// healthy reports whether each of nodes sees every slot served, knows every
// node of the cluster, and, for a replica, is in sync with its master. If
// not, seen is what the first unhealthy node said.
func (c *redisCluster) healthy(nodes []*redisServer) (ok bool, seen string) {
	known := strconv.Itoa(len(c.masters) + len(c.replicas))
	for _, node := range nodes {
		info, err := respDo(node.Addr(), "CLUSTER", "INFO")
		if err != nil {
			return false, node.Addr() + ": " + err.Error()
		}
		repl, err := respDo(node.Addr(), "INFO", "replication")
		if err != nil {
			return false, node.Addr() + ": " + err.Error()
		}
		if infoField(info, "cluster_state") != "ok" ||
			infoField(info, "cluster_slots_ok") != "16384" ||
			infoField(info, "cluster_known_nodes") != known ||
			(infoField(repl, "role") != "master" && infoField(repl, "master_link_status") != "up") {
			return false, node.Addr() + "\n" + info + "\n" + repl
		}
	}
	return true, ""
}

// URL names every node: rueidis finds the cluster from any of them.
func (c *redisCluster) URL() string {
	nodes := c.nodes()
	u := nodes[0].URL()
	for i, node := range nodes[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + node.Addr()
	}
	return u
}

// respDo sends one command to addr on a fresh connection and returns the
// reply as text (arrays flattened one element per line); an error reply is
// an error.
func respDo(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return "", err
	}
	var req bytes.Buffer
	fmt.Fprintf(&req, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write(req.Bytes()); err != nil {
		return "", err
	}
	return readRESP(bufio.NewReader(conn))
}

func readRESP(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("empty RESP line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", err
		}
		parts := make([]string, 0, max(n, 0))
		for range n {
			p, err := readRESP(br)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("unexpected RESP line %q", line)
}

// infoField reads "name:value" from INFO or CLUSTER INFO text.
func infoField(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}
