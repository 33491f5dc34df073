package test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/lemonmall/verifyd/adapters/logtest"
)

// debianChromium is where Debian's chromium package puts the browser.
const debianChromium = "/usr/bin/chromium"

// chromiumPath returns the browser to drive: $VERIFY_TEST_CHROMIUM, else
// Debian's. A machine without either fails the test: the page is part of
// the product, and a skipped browser test would let it break unnoticed.
func chromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("VERIFY_TEST_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("VERIFY_TEST_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	if _, err := os.Stat(debianChromium); err == nil {
		return debianChromium
	}
	t.Fatalf("no Chromium for the browser tests: VERIFY_TEST_CHROMIUM is unset and %s does not exist; "+
		"run `make test` (it calls test/ensure-chromium.sh), or export VERIFY_TEST_CHROMIUM=\"$(test/ensure-chromium.sh)\"",
		debianChromium)
	return ""
}

// browser is one headless Chromium tab with a watch on what the page
// reports: console errors, uncaught exceptions and CSP violations.
type browser struct {
	t     testing.TB
	ctx   context.Context
	watch *pageWatch
}

// newBrowser starts Chromium on a new empty profile. The flags keep it off
// the network except for the pages it is sent to: on a closed network the
// refused background connections would otherwise show up as errors.
func newBrowser(t testing.TB) *browser {
	t.Helper()
	profile := t.TempDir()
	output := &logtest.Buffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // root in a container
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1000, 1000),
		chromedp.CombinedOutput(output),
	)
	// The whole browser lives at most two minutes, whatever happens.
	life, cancelLife := context.WithTimeout(context.Background(), 2*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	w := &pageWatch{}
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(w.listen))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelLife()
		if t.Failed() {
			t.Logf("chromium output:\n%s", output.String())
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v\n%s", err, output.String())
	}
	// A CSP violation is reported to the page as an event as well as to the
	// console; turning the event into console.error makes sure none is
	// missed. Scripts added over the protocol are not subject to the CSP.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `addEventListener('securitypolicyviolation', (e) => console.error(
			'CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline code') +
			' at ' + e.sourceFile + ':' + e.lineNumber));`,
	}); err != nil {
		t.Fatalf("add the CSP watch: %v", err)
	}
	return &browser{t: t, ctx: ctx, watch: w}
}

// do runs actions, failing the test on an error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v%s", what, err, b.watch.report())
	}
}

// eval evaluates a JavaScript expression in the page. Runtime.evaluate is
// exempt from the page's CSP; chromedp.Poll is not (it builds its predicate
// with new Function), which is why waits here poll with eval.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v%s", expr, err, b.watch.report())
	}
	return v
}

// waitFor polls a JavaScript condition until it holds, up to 10 s.
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waited 10s for %s: %s is still false (%v)\npage: %s%s", what, cond, err, b.pageState(), b.watch.report())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pageState describes the form for failure messages.
func (b *browser) pageState() string {
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`JSON.stringify({
		uuid: document.getElementById('captcha')?.dataset.uuid,
		active: document.activeElement?.id,
		mobile: document.getElementById('mobile')?.value,
		mobileMsg: document.getElementById('mobile-msg')?.textContent,
		imageCode: document.getElementById('image-code')?.value,
		imageCodeMsg: document.getElementById('image-code-msg')?.textContent,
		smsCode: document.getElementById('sms-code')?.value,
		smsCodeMsg: document.getElementById('sms-code-msg')?.textContent,
		sendSMS: document.getElementById('send-sms')?.textContent + (document.getElementById('send-sms')?.disabled ? ' (disabled)' : ''),
		verify: document.getElementById('verify')?.textContent + (document.getElementById('verify')?.disabled ? ' (disabled)' : ''),
		result: document.getElementById('result')?.textContent,
	})`))
	if err != nil {
		return err.Error()
	}
	return s
}

// screenshot saves a PNG of the whole page under test/output/.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll("output", 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join("output", name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	return abs
}

// pageWatch collects what the page reports. It runs in the tab's event loop,
// so it only records.
type pageWatch struct {
	mu       sync.Mutex
	problems []string
	// allowed are the browser's own "Failed to load resource" lines for the
	// API refusals a test provokes on purpose (a wrong code is a 400).
	allowed  []string
	requests []string // "METHOD path" of every request the page made
}

// apiRefusal matches the browser's line for a refused API call.
var apiRefusal = regexp.MustCompile(`^Failed to load resource: the server responded with a status of (400|429) `)

func (w *pageWatch) listen(ev any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			w.problems = append(w.problems, fmt.Sprintf("console.%s: %s", ev.Type, remoteObjects(ev.Args)))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		w.problems = append(w.problems, fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level != log.EntryLevelError {
			return
		}
		line := fmt.Sprintf("browser %s error: %s (%s)", e.Source, e.Text, e.URL)
		if e.Source == log.EntrySourceNetwork && apiRefusal.MatchString(e.Text) && isAPIPost(e.URL) {
			w.allowed = append(w.allowed, line)
			return
		}
		w.problems = append(w.problems, line)
	case *network.EventRequestWillBeSent:
		if u, err := url.Parse(ev.Request.URL); err == nil {
			w.requests = append(w.requests, ev.Request.Method+" "+u.Path)
		}
	}
}

var apiPost = regexp.MustCompile(`^/(sms_codes/[^/]+/(verify/)?|api/v1/sms-codes(/verify)?)$`)

func isAPIPost(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && apiPost.MatchString(u.Path)
}

func remoteObjects(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a.Description != "":
			parts = append(parts, a.Description)
		case len(a.Value) > 0:
			parts = append(parts, strings.Trim(string(a.Value), `"`))
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// Problems returns what the page reported that a working page must not.
func (w *pageWatch) Problems() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.problems...)
}

// count returns how many requests matched re.
func (w *pageWatch) count(re *regexp.Regexp) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, r := range w.requests {
		if re.MatchString(r) {
			n++
		}
	}
	return n
}

func (w *pageWatch) report() string {
	if p := w.Problems(); len(p) > 0 {
		return "\npage problems:\n  " + strings.Join(p, "\n  ")
	}
	return ""
}

// assertClean fails the test if the page reported any problem.
func (w *pageWatch) assertClean(t testing.TB) {
	t.Helper()
	w.mu.Lock()
	for _, a := range w.allowed {
		t.Logf("expected: %s", a)
	}
	w.mu.Unlock()
	if p := w.Problems(); len(p) > 0 {
		t.Errorf("the page reported console errors, exceptions or CSP violations:\n  %s", strings.Join(p, "\n  "))
	}
}
