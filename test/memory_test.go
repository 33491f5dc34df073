package test

import "testing"

// verifyd collects its heap at GOGC=50 unless the operator sets GOGC: the
// default keeps its resident size flat under load (docs/BENCHMARKS.md), and
// an operator's setting must still win.
func TestMemory_GCDefaultsTo50AndGOGCWins(t *testing.T) {
	for gogc, want := range map[string]string{"": "50", "150": "150"} {
		env := map[string]string{"VERIFY_ADDR": freeAddr(t)}
		if gogc != "" {
			env["GOGC"] = gogc
		}
		p := start(t, "verifyd", env)
		p.waitReady()
		if got := metric(t, p, "go_gc_gogc_percent"); got != want {
			t.Errorf("GOGC=%q: go_gc_gogc_percent %s, want %s", gogc, got, want)
		}
	}
}
