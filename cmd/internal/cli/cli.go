// Package cli reads the command line of verifyd's binaries. They are
// configured from the environment; the command line only asks for help, the
// version or a health check, so a mistyped flag stops the process rather than
// starting a server the operator did not mean to start.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/lemonmall/verifyd/cmd/internal/config"
)

// UsageError is a bad command line; ExitCode maps it to 2, as the flag
// package and most Unix tools do.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

// ExitCode is the process status for an error realMain returned.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.As(err, new(*UsageError)):
		return 2
	}
	return 1
}

// Command describes one binary for its --help.
type Command struct {
	Name string
	// About says what the command does, in a sentence or two.
	About string
	// ProbeAddr picks, from the configuration, the address whose /healthz
	// --healthcheck calls.
	ProbeAddr func(config.Config) string
}

// Parse reads args (without the program name). done says the command line
// asked for something other than running the service and it has been
// written to stdout; the process then exits with ExitCode(err). A bad
// command line is a *UsageError of one line.
func (c Command) Parse(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) (done bool, err error) {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	// The flag package's own messages are several lines; ours is one.
	fs.SetOutput(io.Discard)
	help := fs.Bool("help", false, "")
	fs.BoolVar(help, "h", false, "")
	version := fs.Bool("version", false, "")
	healthcheck := fs.Bool("healthcheck", false, "")
	if err := fs.Parse(args); err != nil {
		return true, &UsageError{fmt.Sprintf("%v (see %s --help)", err, c.Name)}
	}
	if fs.NArg() > 0 {
		return true, &UsageError{fmt.Sprintf("unexpected argument %q: %s is configured from the environment (see %s --help)", fs.Arg(0), c.Name, c.Name)}
	}
	switch {
	case *help:
		return true, c.Usage(stdout)
	case *version:
		info, _ := debug.ReadBuildInfo()
		_, err := io.WriteString(stdout, Version(c.Name, info))
		return true, err
	case *healthcheck:
		cfg, err := config.Load(getenv)
		if err != nil {
			return true, fmt.Errorf("configuration:\n%w", err)
		}
		return true, Probe(ctx, c.ProbeAddr(cfg))
	}
	return false, nil
}

// Usage writes the --help text: the flags and every environment variable.
func (c Command) Usage(w io.Writer) error {
	if _, err := fmt.Fprintf(w, `Usage: %[1]s [--help | --version | --healthcheck]

%[2]s

Flags:
  -h, --help      print this help and exit
  --version       print the module version, VCS commit and Go version, and exit
  --healthcheck   GET /healthz on this configuration's address; exit 0 when it
                  answers 200, 1 otherwise (for container health checks)

Configuration comes from the environment only; README.md explains each variable.

Environment (name, default, meaning):
`, c.Name, c.About); err != nil {
		return fmt.Errorf("write usage: %w", err)
	}
	return config.WriteVariables(w)
}

// Version formats build information as "key value" lines under the command
// name: the module version, the VCS commit (with "modified" when the tree had
// uncommitted changes) and time, and the Go toolchain. info may be nil.
func Version(name string, info *debug.BuildInfo) string {
	var b strings.Builder
	fmt.Fprintln(&b, name)
	if info == nil {
		fmt.Fprintln(&b, "build information unavailable")
		return b.String()
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	commit := settings["vcs.revision"]
	if commit == "" {
		commit = "unknown (built outside a VCS checkout or with -buildvcs=false)"
	} else if settings["vcs.modified"] == "true" {
		commit += " (modified)"
	}
	fmt.Fprintf(&b, "module  %s %s\n", info.Main.Path, info.Main.Version)
	fmt.Fprintf(&b, "commit  %s\n", commit)
	if t := settings["vcs.time"]; t != "" {
		fmt.Fprintf(&b, "time    %s\n", t)
	}
	fmt.Fprintf(&b, "go      %s %s/%s\n", info.GoVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}

// Probe asks the server listening on addr (as in VERIFY_ADDR) for /healthz
// and fails unless it answers 200 within a few seconds. A wildcard or empty
// host is probed on loopback, where a container's own checks run.
func Probe(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("health check address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	// No proxy from the environment: the check is about this host's server.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check: GET %s answered %s", url, resp.Status)
	}
	return nil
}
