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

# Lines test/load prints for the SMS path (-scenario smspath) and the SMS
# worker benchmark.
/^GOAL (sms|verify|sms\+limits|verify\+limits) / {
	split($3, r, "="); split($4, p, "=")
	pathRate[$2] = r[2]; pathP99[$2] = p[2]
}
/^GOAL captcha / {
	split($3, a, "="); captchaClock = a[2]
	split($4, a, "="); captchaCPU = a[2]
	split($5, a, "="); captchaTail = a[2]
}
/^GOAL rss-peak-mb=/            { split($2, a, "="); rss = a[2] }
/^GOAL redis-bytes-per-user=/   { split($2, a, "="); perUser = a[2] }
/^BenchmarkWorker_SlowProvider\/concurrency=128(-[0-9]+)? / {
	workerRate = metric("msgs/s"); workerCores = metric("cores")
}
END {
	if (captchaClock != "") {
		printf "%-56s %9.2fx  >= 0.9x (by CPU %.2fx)\n", "captcha endpoint vs the pipeline on all cores (16 conns)", captchaClock, captchaCPU
		printf "%-56s %9.2fx  <= 2.5x\n", "captcha endpoint p99 vs p50", captchaTail
	}
	if ("sms" in pathRate) {
		printf "%-56s %9.2fx  >= 0.8x\n", "SMS request vs bare Fiber+rueidis (64 conns, no limits)", pathRate["sms"]
		printf "%-56s %9.2fx  <= 1.5x\n", "SMS request p99 vs bare handler's", pathP99["sms"]
		printf "%-56s %9.2fx  >= 0.8x\n", "verify vs bare Fiber+rueidis (64 conns, no limits)", pathRate["verify"]
		printf "%-56s %9.2fx  <= 1.5x\n", "verify p99 vs bare handler's", pathP99["verify"]
		printf "%-56s %9.2fx  (reported; p99 %.2fx)\n", "SMS request vs bare, default limits", pathRate["sms+limits"], pathP99["sms+limits"]
		printf "%-56s %9.2fx  (reported; p99 %.2fx)\n", "verify vs bare, default limits", pathRate["verify+limits"], pathP99["verify+limits"]
	}
	if (workerRate != "")
		printf "%-56s %10.0f  >= 1000 msgs/s on <= 1 core (%.2f cores)\n", "smsworker msgs/s, provider answering in 50 ms", workerRate, workerCores
	if (rss != "")
		printf "%-56s %7.1f MB  <= 48 MB\n", "verifyd peak RSS during the SMS path rounds", rss
	if (perUser != "")
		printf "%-56s %7d MB  (reported)\n", "Redis for 1 million active users", perUser
}
