package main

import "runtime/debug"

// defaultGCPercent replaces Go's GOGC=100 when the environment sets no
// GOGC. GOGC lets the heap grow by that percentage of the live heap before
// collecting; about 10 MB of verifyd's live heap is data that never becomes
// garbage (base64Captcha's embedded fonts, the numbering-plan metadata), so
// at 100 the heap grows by that much again for nothing. At 50 the headroom is
// still several times a second of requests' garbage at full load, and the
// resident size stays flat under 48 MB (docs/BENCHMARKS.md, Memory).
const defaultGCPercent = 50

// tuneGC applies defaultGCPercent unless GOGC is set: an operator's GOGC
// always wins. GOMEMLIMIT, which the runtime reads itself, applies on top
// of either.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
