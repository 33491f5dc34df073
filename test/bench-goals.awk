# Reads `go test -bench` output and prints each performance goal's measured
# figure next to its target (make bench). A goal whose benchmark did not run
# is left out.
function metric(unit,    i) {
	for (i = 3; i < NF; i++) if ($(i + 1) == unit) return $i
	return ""
}
/^BenchmarkRenderSpeedup/ { speedup = metric("x-stock") }
/^BenchmarkRender\/stock/ { stockBytes = metric("B/image") }
/^BenchmarkRender\/new/   { newBytes = metric("B/image") }
END {
	if (speedup != "")
		printf "%-56s %9.2fx  >= 2.5x\n", "captcha pipeline vs base64Captcha DrawCaptcha+WriteTo", speedup
	if (stockBytes != "" && newBytes != "")
		printf "%-56s %9.0f%%  <= 100%% (%d vs %d bytes)\n", "captcha image size vs base64Captcha's", 100 * newBytes / stockBytes, newBytes, stockBytes
}
