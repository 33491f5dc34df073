package test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runFlags runs a built binary with args and env to completion and returns
// its stdout, stderr and exit status. A server that ignored its flags would
// run until the timeout, which fails the test.
func runFlags(t *testing.T, bin string, env []string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %q still running after 30s: flags ignored?\n%s", bin, args, errOut.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s %q: %v", bin, args, err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

func TestFlags_HelpVersionAndUnknownFlagsOfBothBinaries(t *testing.T) {
	for _, name := range []string{"verifyd", "smsworker"} {
		t.Run(name, func(t *testing.T) {
			bin := binary(t, name)
			// Valid settings that would start a server: the flags must win.
			env := []string{"VERIFY_ADDR=" + freeAddr(t), "VERIFY_WORKER_ADDR=" + freeAddr(t),
				"VERIFY_SMS_QUEUE=redis", "VERIFY_CODE_SECRET=" + strings.Repeat("k", 32)}

			for _, arg := range []string{"-h", "--help"} {
				out, errOut, status := runFlags(t, bin, env, arg)
				if status != 0 || errOut != "" {
					t.Errorf("%s: exit %d, stderr %q", arg, status, errOut)
				}
				for _, want := range []string{"Usage: " + name, "README.md", "--version",
					"\n  VERIFY_ADDR ", "\n  VERIFY_WORKER_ADDR ", "\n  TWILIO_AUTH_TOKEN "} {
					if !strings.Contains(out, want) {
						t.Errorf("%s: no %q in\n%s", arg, want, out)
					}
				}
			}

			out, errOut, status := runFlags(t, bin, env, "--version")
			if status != 0 || errOut != "" {
				t.Errorf("--version: exit %d, stderr %q", status, errOut)
			}
			for _, want := range []string{name + "\n", "module  github.com/lemonmall/verifyd ", "\ncommit  ",
				"\ngo      " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"} {
				if !strings.Contains(out, want) {
					t.Errorf("--version: no %q in\n%s", want, out)
				}
			}

			for _, args := range [][]string{{"--bogus"}, {"--port", "80"}, {"serve"}} {
				out, errOut, status := runFlags(t, bin, env, args...)
				want := name + ": "
				if status != 2 || out != "" || !strings.HasPrefix(errOut, want) ||
					strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, name+" --help") {
					t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line on stderr", args, status, out, errOut)
				}
			}
		})
	}
}

// TestFlags_HealthcheckFollowsTheServer is the check a container runtime
// runs inside an image that has no curl.
func TestFlags_HealthcheckFollowsTheServer(t *testing.T) {
	addr := freeAddr(t)
	env := []string{"VERIFY_ADDR=" + addr}
	p := start(t, "verifyd", map[string]string{"VERIFY_ADDR": addr})
	p.waitReady()
	if _, errOut, status := runFlags(t, binary(t, "verifyd"), env, "--healthcheck"); status != 0 {
		t.Fatalf("healthy server: exit %d, %s", status, errOut)
	}
	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	_, errOut, status := runFlags(t, binary(t, "verifyd"), env, "--healthcheck")
	if status != 1 || !strings.Contains(errOut, "health check") {
		t.Fatalf("stopped server: exit %d, stderr %q; want 1 and the reason", status, errOut)
	}
}
