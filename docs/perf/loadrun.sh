#!/usr/bin/env bash
# The bucketgate load run (docs/performance.md).
#
#   docs/perf/loadrun.sh compare [seconds]   PAIRS alternated pairs: plain reverse_proxy vs bucketgate
#   docs/perf/loadrun.sh memory  [seconds]   bucketgate under load, its memory sampled every 10 s
#   docs/perf/loadrun.sh cpu     [seconds]   two alternated pairs: CPU per request of each process
#   docs/perf/loadrun.sh ab A B  [seconds]   PAIRS alternated pairs: bucketgate built as A vs as B
#
# Both proxies run in one Caddy process (docs/perf/proxy.Caddyfile) in front of
# one upstream process (docs/perf/upstream.Caddyfile), on 127.0.0.1:18701-18703.
# Every request's body differs (docs/perf/update.lua). BIN names the binary
# (default: built from this checkout); WRK_ARGS the connections and threads;
# PAIRS how many pairs compare runs (default 5). LOGS=1 runs production-shaped:
# both proxies write a JSON access log to a file, as a site with logging
# does (bucketgate's decision then rides on the access line). PIN=1 gives
# the proxy process a core of its own (taskset: core 1 for the proxies, core
# 0 for wrk and the upstream), so its CPU per update is its own work, not
# time shared with the load generator. On a shared machine whose
# speed drifts over tens of seconds, many short pairs (PAIRS=21, 4 seconds)
# give a steadier median than a few long ones.
#
# ab compares two builds of the gateway itself, which differ by less than the
# machine drifts between runs: binary A serves as above, binary B runs its own
# proxy process on 18712-18713 in front of the same upstream, and each pair
# loads A's and B's bucketgate in turn (default PAIRS=16, 4 seconds each).
# It reports, per pair and as medians, B's requests per second over A's and
# the difference in the proxy's CPU per update. Run a binary against itself
# to see the noise (about 2% on the development machine).
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-compare}
if [[ $mode == ab ]]; then
	[[ $# -ge 3 ]] || { echo "usage: $0 ab BIN_A BIN_B [seconds]" >&2; exit 2; }
	BIN=$2 binB=$3
	secs=${4:-4}
	PAIRS=${PAIRS:-16}
else
	secs=${2:-}
fi
WRK_ARGS=${WRK_ARGS:--t1 -c16}
PAIRS=${PAIRS:-5}
work=$(mktemp -d)
if [[ -z "${BIN:-}" ]]; then
	BIN=$work/bucketgate
	go build -o "$BIN" ./cmd/bucketgate
fi

pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT

loadpin=() proxypin=()
if [[ ${PIN:-} == 1 ]]; then
	loadpin=(taskset -c 0) proxypin=(taskset -c 1)
fi
"${loadpin[@]}" "$BIN" run --config docs/perf/upstream.Caddyfile >/dev/null 2>&1 &
upstream=$!
pids+=($upstream)
# Without LOGS, bucketgate's own decision lines go to /dev/null, so the disk
# is not part of the run; with LOGS, both sites' access lines go to files.
proxyConfig=docs/perf/proxy.Caddyfile
if [[ ${LOGS:-} == 1 ]]; then
	proxyConfig=$work/proxy.Caddyfile
	awk -v dir="$work" '
		{ print }
		/^:187[0-9][0-9] \{$/ { port = substr($1, 2, 5); printf "\tlog {\n\t\toutput file %s/access-%s.log {\n\t\t\troll_size 50MiB\n\t\t\troll_keep 1\n\t\t\troll_uncompressed\n\t\t}\n\t\tformat json\n\t}\n", dir, port }
	' docs/perf/proxy.Caddyfile >"$proxyConfig"
fi
"${proxypin[@]}" "$BIN" run --config "$proxyConfig" >/dev/null 2>&1 &
proxy=$!
pids+=($proxy)
ports="18701 18702 18703"
if [[ $mode == ab ]]; then
	sed 's/:18702 {/:18712 {/; s/:18703 {/:18713 {/; s/access-1870/access-1871/' "$proxyConfig" >"$work/proxyB.Caddyfile"
	"${proxypin[@]}" "$binB" run --config "$work/proxyB.Caddyfile" >/dev/null 2>&1 &
	proxyB=$!
	pids+=($proxyB)
	ports="$ports 18713"
fi
for port in $ports; do
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && break
		sleep 0.2
	done
	curl -s -o /dev/null "http://127.0.0.1:$port/" || { echo "nothing listens on $port" >&2; exit 1; }
done

url() { echo "http://127.0.0.1:$1"; }
# run PORT SECONDS: prints "requests/s p50 p99" (latencies in microseconds)
run() {
	"${loadpin[@]}" wrk $WRK_ARGS -d"$2"s --latency -s docs/perf/update.lua "$(url "$1")" >"$work/wrk.out"
	awk '
		function us(v) { if (v ~ /us$/) return v+0; if (v ~ /ms$/) return v*1000; if (v ~ /s$/) return v*1000000; return v }
		/Requests\/sec/ { rps = $2 }
		/^ +50%/ { p50 = us($2) }
		/^ +99%/ { p99 = us($2) }
		/unexpected status/ { bad = 1 }
		END { if (bad) { print "error: a request failed" > "/dev/stderr"; exit 1 } printf "%s %d %d\n", rps, p50, p99 }
	' "$work/wrk.out"
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

case $mode in
compare)
	secs=${secs:-15}
	run 18702 5 >/dev/null # warm up both
	run 18703 5 >/dev/null
	printf "%-5s %12s %12s %8s %8s %8s %8s %7s\n" pair "plain req/s" "gate req/s" "p50 +us" "p99 +us" "p50" "p99" ratio
	: >"$work/pairs"
	for ((i = 1; i <= PAIRS; i++)); do
		if ((i % 2)); then
			read -r prps pp50 pp99 < <(run 18702 "$secs")
			read -r grps gp50 gp99 < <(run 18703 "$secs")
		else
			read -r grps gp50 gp99 < <(run 18703 "$secs")
			read -r prps pp50 pp99 < <(run 18702 "$secs")
		fi
		ratio=$(awk -v g="$grps" -v p="$prps" 'BEGIN { printf "%.3f", g / p }')
		echo "$prps $grps $((gp50 - pp50)) $((gp99 - pp99)) $ratio $pp50 $pp99 $gp50 $gp99" >>"$work/pairs"
		printf "%-5s %12s %12s %8d %8d %8s %8s %7s\n" "$i" "$prps" "$grps" $((gp50 - pp50)) $((gp99 - pp99)) "$pp50/$gp50" "$pp99/$gp99" "$ratio"
	done
	echo "median ratio $(cut -d' ' -f5 "$work/pairs" | median)," \
		"median plain $(cut -d' ' -f1 "$work/pairs" | median) req/s, median bucketgate $(cut -d' ' -f2 "$work/pairs" | median) req/s," \
		"median latency added p50 $(cut -d' ' -f3 "$work/pairs" | median) us, p99 $(cut -d' ' -f4 "$work/pairs" | median) us"
	;;
memory)
	secs=${secs:-600}
	"${loadpin[@]}" wrk $WRK_ARGS -d"$secs"s -s docs/perf/update.lua "$(url 18703)" >"$work/wrk.out" &
	load=$!
	echo "seconds rss_kib"
	start=$SECONDS
	while kill -0 "$load" 2>/dev/null; do
		echo "$((SECONDS - start)) $(awk '/^VmRSS/ { print $2 }' "/proc/$proxy/status")"
		sleep 10
	done
	grep -E "requests in|Requests/sec|Non-2xx" "$work/wrk.out" || true
	;;
cpu)
	# CPU time (user and system, from /proc) each process spends per request
	# while wrk loads one side, measured over the middle of each run.
	secs=${secs:-10}
	ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
	hz=$(getconf CLK_TCK)
	run 18702 5 >/dev/null # warm up both
	run 18703 5 >/dev/null
	printf "%-11s %10s %14s %14s %14s\n" side "req/s" "proxy us/req" "upstream us/req" "wrk us/req"
	for port in 18702 18703 18702 18703; do
		"${loadpin[@]}" wrk $WRK_ARGS -d"$((secs + 2))"s -s docs/perf/update.lua "$(url "$port")" >"$work/wrk.out" &
		load=$!
		sleep 1
		p0=$(ticks "$proxy") u0=$(ticks "$upstream") w0=$(ticks "$load")
		sleep "$secs"
		p1=$(ticks "$proxy") u1=$(ticks "$upstream") w1=$(ticks "$load")
		wait "$load"
		side=plain
		[[ $port == 18703 ]] && side=bucketgate
		awk -v side="$side" -v p=$((p1 - p0)) -v u=$((u1 - u0)) -v w=$((w1 - w0)) -v hz="$hz" -v secs="$secs" '
			/Requests\/sec/ { n = $2 * secs; printf "%-11s %10s %14.1f %14.1f %14.1f\n", side, $2, p / hz * 1e6 / n, u / hz * 1e6 / n, w / hz * 1e6 / n }
		' "$work/wrk.out"
	done
	;;
ab)
	ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
	hz=$(getconf CLK_TCK)
	# side PORT PID: loads one side; prints "requests/s proxy-us-per-update"
	side() {
		"${loadpin[@]}" wrk $WRK_ARGS -d"$((secs + 1))"s -s docs/perf/update.lua "$(url "$1")" >"$work/wrk.out" &
		local load=$! p0 p1
		sleep 0.5
		p0=$(ticks "$2")
		sleep "$secs"
		p1=$(ticks "$2")
		wait "$load"
		awk -v p=$((p1 - p0)) -v hz="$hz" -v secs="$secs" '
			/unexpected status/ { print "error: a request failed" > "/dev/stderr"; exit 1 }
			/Requests\/sec/ { printf "%s %.1f\n", $2, p / hz * 1e6 / ($2 * secs) }
		' "$work/wrk.out"
	}
	run 18703 3 >/dev/null # warm up both
	run 18713 3 >/dev/null
	printf "%-5s %12s %12s %10s %10s %8s %10s\n" pair "A req/s" "B req/s" "A us/upd" "B us/upd" "B/A" "B-A us"
	: >"$work/pairs"
	for ((i = 1; i <= PAIRS; i++)); do
		if ((i % 2)); then
			read -r arps acpu < <(side 18703 "$proxy")
			read -r brps bcpu < <(side 18713 "$proxyB")
		else
			read -r brps bcpu < <(side 18713 "$proxyB")
			read -r arps acpu < <(side 18703 "$proxy")
		fi
		awk -v i="$i" -v a="$arps" -v b="$brps" -v ac="$acpu" -v bc="$bcpu" 'BEGIN {
			printf "%-5s %12s %12s %10s %10s %8.3f %+10.1f\n", i, a, b, ac, bc, b / a, bc - ac
			printf "%.4f %.1f\n", b / a, bc - ac > "/dev/stderr"
		}' 2>>"$work/pairs"
	done
	echo "median B/A $(cut -d' ' -f1 "$work/pairs" | median), median B-A $(cut -d' ' -f2 "$work/pairs" | median) us of proxy CPU per update"
	;;
*)
	echo "usage: $0 compare|memory|cpu [seconds] | ab BIN_A BIN_B [seconds]" >&2
	exit 2
	;;
esac
