package test

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// podman runs podman with args and returns its trimmed stdout.
func podman(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

// TestImage_BuildsAndItsBinariesServeOnRedis builds the image with `make
// image`, checks what the image declares, copies the binaries back out (no
// container can run on the test machines) and runs them against the test
// Redis until /readyz answers 200.
func TestImage_BuildsAndItsBinariesServeOnRedis(t *testing.T) {
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman not found: run deploy/ensure-podman.sh (make test and make image-test do)")
	}
	image := fmt.Sprintf("localhost/verifyd-test:%d", os.Getpid())
	buildCtx := t.TempDir()
	build := exec.Command("make", "-C", "..", "image", "IMAGE="+image, "IMAGE_CONTEXT="+buildCtx)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("podman", "rmi", "--force", image).Run() })

	var inspect []struct {
		Size   int64
		Config struct {
			User         string
			Entrypoint   []string
			ExposedPorts map[string]struct{}
		}
		// Podman reports the docker format's HEALTHCHECK here.
		Healthcheck struct{ Test []string }
	}
	if err := json.Unmarshal([]byte(podman(t, "image", "inspect", image)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("image inspect: %v %+v", err, inspect)
	}
	cfg := inspect[0].Config
	t.Logf("image size %.1f MB", float64(inspect[0].Size)/1e6)
	if cfg.User != "65532:65532" {
		t.Errorf("USER %q, want the non-root 65532:65532", cfg.User)
	}
	if !slices.Equal(cfg.Entrypoint, []string{"/usr/local/bin/verifyd"}) {
		t.Errorf("ENTRYPOINT %q", cfg.Entrypoint)
	}
	for _, port := range []string{"8000/tcp", "8001/tcp"} {
		if _, ok := cfg.ExposedPorts[port]; !ok {
			t.Errorf("EXPOSE lacks %s: %v", port, cfg.ExposedPorts)
		}
	}
	if hc := inspect[0].Healthcheck.Test; !slices.Contains(hc, "--healthcheck") {
		t.Errorf("HEALTHCHECK %q does not run verifyd --healthcheck", hc)
	}
	// Two stripped static binaries and a CA bundle; more means something
	// unintended got in.
	if inspect[0].Size > 80e6 {
		t.Errorf("image is %d bytes, want under 80 MB", inspect[0].Size)
	}

	container := podman(t, "create", image)
	t.Cleanup(func() { _ = exec.Command("podman", "rm", "--force", container).Run() })
	out := t.TempDir()
	for _, f := range []string{"/usr/local/bin/verifyd", "/usr/local/bin/smsworker", "/etc/ssl/certs/ca-certificates.crt", "/etc/passwd"} {
		podman(t, "cp", container+":"+f, filepath.Join(out, filepath.Base(f)))
	}
	if passwd, _ := os.ReadFile(filepath.Join(out, "passwd")); !strings.Contains(string(passwd), ":65532:65532:") {
		t.Errorf("/etc/passwd has no entry for 65532:\n%s", passwd)
	}
	if ca, _ := os.ReadFile(filepath.Join(out, "ca-certificates.crt")); !bytes.Contains(ca, []byte("BEGIN CERTIFICATE")) {
		t.Error("/etc/ssl/certs/ca-certificates.crt holds no certificate")
	}

	redisURL, _ := testRedis(t)
	for _, name := range []string{"verifyd", "smsworker"} {
		bin := filepath.Join(out, name)
		checkStaticBuild(t, bin)
		addr := freeAddr(t)
		env := []string{"VERIFY_STORE=redis", "VERIFY_SMS_QUEUE=redis", "VERIFY_REDIS_URL=" + redisURL,
			"VERIFY_CODE_SECRET=" + strings.Repeat("i", 32), "VERIFY_ADDR=" + addr, "VERIFY_WORKER_ADDR=" + addr,
			"VERIFY_SMS_STREAM=sms_outbox_image_test_" + fmt.Sprint(os.Getpid())}
		runUntilReady(t, bin, env, "http://"+addr)
	}
}

// checkStaticBuild reads the build settings make image promises.
func checkStaticBuild(t *testing.T, bin string) {
	t.Helper()
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	// -trimpath keeps -ldflags out of the build info: the sections show -s -w.
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Errorf("%s built with %v; want CGO_ENABLED=0 -trimpath", bin, settings)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	defer f.Close()
	for _, name := range []string{".symtab", ".debug_info"} {
		if f.Section(name) != nil {
			t.Errorf("%s has %s: not built with -ldflags \"-s -w\"", bin, name)
		}
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s needs a dynamic loader, which scratch lacks", bin)
		}
	}
}

// runUntilReady starts bin, waits for /readyz to answer 200 and for the
// process to stop cleanly on SIGTERM.
func runUntilReady(t *testing.T, bin string, env []string, base string) {
	t.Helper()
	var logs bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%s after SIGTERM: %v\n%s", bin, err, logs.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("%s still running 30s after SIGTERM", bin)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("%s exited before ready: %v", bin, err)
		default:
		}
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: /readyz not 200 within 30s", bin)
}

// TestCompose_OperationsShowsTheFileInTheRepo keeps the example operators
// read in docs/OPERATIONS.md the same as deploy/compose.yaml.
func TestCompose_OperationsShowsTheFileInTheRepo(t *testing.T) {
	compose, err := os.ReadFile("../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, append([]byte("```yaml\n"), append(compose, "```\n"...)...)) {
		t.Error("docs/OPERATIONS.md does not show deploy/compose.yaml as it is")
	}
	for _, want := range []string{"image: localhost/verifyd:latest", `entrypoint: ["/usr/local/bin/smsworker"]`,
		"VERIFY_SMS_QUEUE: redis", `"/usr/local/bin/smsworker", "--healthcheck"`} {
		if !bytes.Contains(compose, []byte(want)) {
			t.Errorf("deploy/compose.yaml lacks %s", want)
		}
	}
}
