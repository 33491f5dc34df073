package test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/rueidis"

	"github.com/lemonmall/verifyd/adapters/redis"
	"github.com/lemonmall/verifyd/adapters/storetest"
	"github.com/lemonmall/verifyd/domain"
)

// TestCluster_StoreAndLimiterKeepTheirContractOnRedisCluster runs the store
// and limiter contract suites against a real three-master Redis Cluster
// through a client that found the cluster from its seed URL: every script's
// keys share a slot (no CROSSSLOT) and every rule holds across nodes.
func TestCluster_StoreAndLimiterKeepTheirContractOnRedisCluster(t *testing.T) {
	cluster := startRedisCluster(t, 3, 0)
	client := dialRedis(t, cluster.URL())
	if n := len(client.Nodes()); n != 3 {
		t.Fatalf("client sees %d nodes, want the cluster's 3: cluster not detected", n)
	}

	t.Run("store", func(t *testing.T) {
		storetest.Run(t, func(*testing.T) storetest.Store { return redis.NewStore(client) })
	})
	t.Run("limiter", func(t *testing.T) {
		storetest.RunLimiter(t, func(*testing.T) domain.RateLimiter { return redis.NewLimiter(client) })
	})

	// The suites' keys landed on every master, not on one by chance.
	for _, node := range cluster.masters {
		if n, err := respDo(node.Addr(), "DBSIZE"); err != nil || n == "0" {
			t.Errorf("node %s holds %s keys (%v): the suites did not spread over the cluster", node.Addr(), n, err)
		}
	}
}

// TestCluster_WholeFlowThroughVerifydOnRedisCluster walks the seed's flow
// through a verifyd process whose store is a Redis Cluster.
func TestCluster_WholeFlowThroughVerifydOnRedisCluster(t *testing.T) {
	cluster := startRedisCluster(t, 3, 0)
	client := dialRedis(t, cluster.URL())

	// A cluster has database 0 only: a URL naming another is refused at
	// start, with the variable named, rather than failing every request.
	withDB := start(t, "verifyd", map[string]string{
		"VERIFY_ADDR":        freeAddr(t),
		"VERIFY_STORE":       "redis",
		"VERIFY_REDIS_URL":   strings.Replace(cluster.URL(), "?", "/2?", 1),
		"VERIFY_CODE_SECRET": testSecret,
	})
	if err := withDB.wait(); err == nil {
		t.Fatal("verifyd started on a cluster URL naming database 2")
	}
	t.Logf("cluster URL with /2: %s", strings.TrimSpace(withDB.output()))
	if out := withDB.output(); !strings.Contains(out, "VERIFY_REDIS_URL") {
		t.Errorf("start-up error does not name VERIFY_REDIS_URL:\n%s", out)
	}

	p := start(t, "verifyd", map[string]string{
		"VERIFY_ADDR":         freeAddr(t),
		"VERIFY_STORE":        "redis",
		"VERIFY_REDIS_URL":    cluster.URL(),
		"VERIFY_CODE_SECRET":  testSecret,
		"VERIFY_SMS_PROVIDER": "log",
	})
	p.waitReady()

	// One phone whose keys live on each master, and random ones.
	for i, mobile := range phonesOnEveryMaster(t, cluster) {
		walkFlowFor(t, p, client, mobile)
		// The phone's resend slot is on that master (any other answers MOVED).
		if v, err := respDo(cluster.masters[i].Addr(), "EXISTS", "send_flag_{+86"+mobile+"}"); v != "1" {
			t.Errorf("master %d: send_flag_{+86%s}: %q %v, want the phone's live resend slot", i, mobile, v, err)
		}
	}
	for range 3 {
		walkFlow(t, p, client)
	}

	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if out := p.output(); strings.Contains(out, "CROSSSLOT") || strings.Contains(out, "MOVED") {
		t.Errorf("cluster redirection errors reached the service:\n%s", out)
	}
}

// walkFlow is the seed's flow against p, reading captcha answers through
// client: a wrong image code (4001), the right one in upper case (200), the
// code from the log sender, a throttled resend (200 4002), a wrong code
// (4008), the right code once (200) and not twice (4008).
func walkFlow(t testing.TB, p *process, client rueidis.Client) {
	t.Helper()
	walkFlowFor(t, p, client, randomMobile(t))
}

// walkFlowFor is walkFlow for a given national CN mobile number.
func walkFlowFor(t testing.TB, p *process, client rueidis.Client, mobile string) {
	t.Helper()

	id := uuid.NewString()
	res, err := http.Get(p.base + "/image_codes/" + id + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("image: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	imageCode := captchaAnswer(t, client, id)

	wrongID := getImage(t, p.base, uuid.NewString())
	call(t, "GET", p.base+"/sms_codes/"+mobile+"/?"+url.Values{"uuid": {wrongID}, "image_code": {"zzzz"}}.Encode(), nil).
		want(t, 200, "4001")

	call(t, "GET", p.base+"/sms_codes/"+mobile+"/?"+url.Values{"uuid": {id}, "image_code": {strings.ToUpper(imageCode)}}.Encode(), nil).
		want(t, 200, "0")
	code := p.waitLog(codeLine(mobile))

	id2 := getImage(t, p.base, uuid.NewString())
	a := call(t, "POST", p.base+"/sms_codes/+86"+mobile+"/", url.Values{"uuid": {id2}, "image_code": {captchaAnswer(t, client, id2)}})
	a.want(t, 200, "4002")
	if a.RetryAfter == "" {
		t.Error("4002 without Retry-After")
	}

	call(t, "POST", p.base+"/sms_codes/"+mobile+"/verify/", url.Values{"sms_code": {wrongCode(code)}}).want(t, 200, "4008")
	call(t, "POST", p.base+"/sms_codes/"+mobile+"/verify/", url.Values{"sms_code": {code}}).want(t, 200, "0")
	call(t, "POST", p.base+"/sms_codes/"+mobile+"/verify/", url.Values{"sms_code": {code}}).want(t, 200, "4008")
}

// phonesOnEveryMaster returns one random mobile number per master of
// cluster, such that the phone's keys (hash tag {+E164}) live on that master.
func phonesOnEveryMaster(t testing.TB, cluster *redisCluster) []string {
	t.Helper()
	n := len(cluster.masters)
	phones := make([]string, n)
	for found := 0; found < n; {
		mobile := randomMobile(t)
		raw := mustRESP(t, cluster.masters[0], "CLUSTER", "KEYSLOT", "sms_{+86"+mobile+"}")
		slot, err := strconv.Atoi(raw)
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT: %q", raw)
		}
		// startRedisCluster gives master i the slots [i*16384/n, (i+1)*16384/n).
		for i := range n {
			if i*16384/n <= slot && slot < (i+1)*16384/n && phones[i] == "" {
				phones[i] = mobile
				found++
			}
		}
	}
	return phones
}

// codeLine matches the log sender's line for mobile (national CN digits) and
// captures the code.
func codeLine(mobile string) *regexp.Regexp {
	return regexp.MustCompile(`"to":"\+86` + mobile + `","text":"Your verification code is (\d{6})\.`)
}

// wrongCode is a 6-digit code other than code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// getImage fetches the captcha id from base, fails unless it is an image,
// and returns id.
func getImage(t testing.TB, base, id string) string {
	t.Helper()
	res, err := http.Get(base + "/image_codes/" + id + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET /image_codes/%s/: %d", id, res.StatusCode)
	}
	return id
}

// TestCluster_MasterFailoverIsRiddenOutWithoutRestart kills a master of a
// cluster with one replica per master. While the cluster fails over, every
// request ends quickly, in an answer or in 503 5000, never a hang, a 500 or
// a crash; once a replica has taken over, the same verifyd process serves
// the whole flow again on every slot.
func TestCluster_MasterFailoverIsRiddenOutWithoutRestart(t *testing.T) {
	cluster := startRedisCluster(t, 3, 1)
	client := dialRedis(t, cluster.URL())
	p := start(t, "verifyd", map[string]string{
		"VERIFY_ADDR":         freeAddr(t),
		"VERIFY_STORE":        "redis",
		"VERIFY_REDIS_URL":    cluster.URL(),
		"VERIFY_CODE_SECRET":  testSecret,
		"VERIFY_SMS_PROVIDER": "log",
	})
	p.waitReady()
	walkFlow(t, p, client)

	dead := cluster.masters[0]
	dead.kill()
	killed := time.Now()
	var survivors []*redisServer
	for _, n := range cluster.nodes() {
		if n != dead {
			survivors = append(survivors, n)
		}
	}

	// Until the survivors agree the cluster is whole again, keep asking for
	// captchas (their keys spread over all slots).
	httpc := &http.Client{Timeout: 2 * outageBound}
	defer httpc.CloseIdleConnections()
	answers := map[string]int{}
	for {
		if ok, _ := cluster.healthy(survivors); ok {
			break
		}
		if time.Since(killed) > 30*time.Second {
			_, seen := cluster.healthy(survivors)
			t.Fatalf("no failover within 30 s; last seen:\n%s", seen)
		}
		began := time.Now()
		res, err := httpc.Get(p.base + "/image_codes/" + uuid.NewString() + "/")
		if err != nil {
			t.Fatalf("during the failover: %v", err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if took := time.Since(began); took > outageBound {
			t.Errorf("during the failover a captcha took %v, want at most %v", took, outageBound)
		}
		var a answer
		switch {
		case res.StatusCode == 200:
		case res.StatusCode == 503 && json.Unmarshal(raw, &a) == nil && a.Code == "5000":
		default:
			t.Fatalf("during the failover: %d %q, want 200 or 503 5000", res.StatusCode, raw)
		}
		answers[res.Status]++
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("failover took %v; captchas meanwhile: %v", time.Since(killed).Round(time.Millisecond), answers)

	// verifyd follows the new topology by itself: soon every slot answers.
	deadline := time.Now().Add(15 * time.Second)
	for ok := 0; ok < 50; {
		res, err := httpc.Get(p.base + "/image_codes/" + uuid.NewString() + "/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == 200 {
			ok++
		} else {
			ok = 0
		}
		if time.Now().After(deadline) {
			t.Fatalf("captchas still fail (%d) 15 s after the failover", res.StatusCode)
		}
	}
	for range 6 {
		walkFlow(t, p, client)
	}
	wantAliveWithoutPanic(t, p)
}
