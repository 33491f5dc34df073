package cli

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/lemonmall/verifyd/cmd/internal/config"
)

func testCommand() Command {
	return Command{
		Name:      "verifyd",
		About:     "verifyd serves captchas.",
		ProbeAddr: func(cfg config.Config) string { return cfg.HTTP.Addr },
	}
}

func noEnv(string) string { return "" }

func parse(t *testing.T, getenv config.Getenv, args ...string) (bool, string, error) {
	t.Helper()
	var out strings.Builder
	done, err := testCommand().Parse(context.Background(), args, getenv, &out)
	return done, out.String(), err
}

func TestParse_NoArgumentsRunsTheService(t *testing.T) {
	done, out, err := parse(t, noEnv)
	if done || err != nil || out != "" {
		t.Fatalf("done %v, err %v, output %q", done, err, out)
	}
}

func TestParse_HelpListsEveryVariableAndExitsZero(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		done, out, err := parse(t, noEnv, arg)
		if !done || err != nil || ExitCode(err) != 0 {
			t.Fatalf("%s: done %v, err %v", arg, done, err)
		}
		for _, want := range []string{"Usage: verifyd", "verifyd serves captchas.", "--version", "--healthcheck", "README.md"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: no %q in\n%s", arg, want, out)
			}
		}
		for _, v := range config.Variables() {
			if !strings.Contains(out, "\n  "+v.Name+" ") {
				t.Errorf("%s: %s missing from\n%s", arg, v.Name, out)
			}
		}
	}
}

func TestParse_VersionPrintsTheGoToolchain(t *testing.T) {
	done, out, err := parse(t, noEnv, "--version")
	if !done || err != nil {
		t.Fatalf("done %v, err %v", done, err)
	}
	if !strings.HasPrefix(out, "verifyd\n") || !strings.Contains(out, "go      "+runtime.Version()+" ") ||
		!strings.Contains(out, "\ncommit  ") {
		t.Errorf("version output:\n%s", out)
	}
}

func TestVersion_ShowsModuleCommitAndModifiedTree(t *testing.T) {
	info := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/lemonmall/verifyd", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "3632e06d9a45110a56bb4cbc6c989d86274f77b9"},
			{Key: "vcs.time", Value: "2026-11-29T22:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	got := Version("smsworker", info)
	want := "smsworker\n" +
		"module  github.com/lemonmall/verifyd v1.2.3\n" +
		"commit  3632e06d9a45110a56bb4cbc6c989d86274f77b9 (modified)\n" +
		"time    2026-11-29T22:00:00Z\n" +
		"go      go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	info.Settings = nil
	if got := Version("smsworker", info); !strings.Contains(got, "commit  unknown") {
		t.Errorf("without VCS stamps:\n%s", got)
	}
	if got := Version("smsworker", nil); !strings.Contains(got, "unavailable") {
		t.Errorf("without build info:\n%s", got)
	}
}

func TestParse_BadCommandLineIsOneLineAndExitsTwo(t *testing.T) {
	for _, args := range [][]string{{"--bogus"}, {"-port=80"}, {"serve"}, {"--help", "extra"}} {
		done, out, err := parse(t, noEnv, args...)
		var usage *UsageError
		if !done || !errors.As(err, &usage) || ExitCode(err) != 2 {
			t.Fatalf("%q: done %v, err %v, exit %d", args, done, err, ExitCode(err))
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "verifyd --help") {
			t.Errorf("%q: message %q, want one line pointing to --help", args, msg)
		}
		if out != "" {
			t.Errorf("%q: wrote %q to stdout", args, out)
		}
	}
	if ExitCode(errors.New("redis down")) != 1 || ExitCode(nil) != 0 {
		t.Error("other errors must exit 1, success 0")
	}
}

func TestParse_HealthcheckProbesTheConfiguredAddress(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	for _, addr := range []string{srv.Listener.Addr().String(), ":" + port, "0.0.0.0:" + port} {
		env := func(k string) string { return map[string]string{"VERIFY_ADDR": addr}[k] }
		if done, _, err := parse(t, env, "--healthcheck"); !done || err != nil {
			t.Errorf("VERIFY_ADDR=%s: done %v, err %v", addr, done, err)
		}
	}
	status = http.StatusServiceUnavailable
	env := func(k string) string { return map[string]string{"VERIFY_ADDR": ":" + port}[k] }
	if _, _, err := parse(t, env, "--healthcheck"); err == nil || ExitCode(err) != 1 {
		t.Errorf("a 503 passed the check: %v", err)
	}
	srv.Close()
	if _, _, err := parse(t, env, "--healthcheck"); err == nil || ExitCode(err) != 1 {
		t.Errorf("nothing listening passed the check: %v", err)
	}
	bad := func(k string) string { return map[string]string{"VERIFY_STORE": "mongo"}[k] }
	if _, _, err := parse(t, bad, "--healthcheck"); err == nil || !strings.Contains(err.Error(), "VERIFY_STORE") {
		t.Errorf("a bad configuration passed the check: %v", err)
	}
}
