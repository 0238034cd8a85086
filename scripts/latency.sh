#!/usr/bin/env bash
# latency.sh — delivery latency of two server builds side by side, with
# the load tool of this tree: 100 × 10, 500 × 50, 1,000 × 20, 500 × 200 and
# 1,000 × 50 (sessions × messages a second, senders at 0.5 msg/s each, so
# twice as many senders as the rate, 120×40 PTYs, 4 sessions connecting at
# a time, 30 s of sending). Runs alternate between the builds (scenario by
# scenario, build by build), so that both see the same load of the
# machine; every line gives the load averages when its run started.
#
# The server runs on core SERVER_CPU (0), the tool on TOOL_CPU (1), both on
# 127.0.0.1; every run against a fresh server with a fresh data directory,
# bounded to RUN_LIMIT seconds (150).
#
# Usage: scripts/latency.sh NAME=BINARY [NAME=BINARY ...] [-- scenario ...]
#   scenarios: 100x10 500x50 1000x20 500x200 1000x50 (default: all)
#   e.g. scripts/latency.sh before=/tmp/sshchat-main after=/tmp/sshchat
# Environment: RUNS (1), DURATION (30s), PORT (22500), SERVER_CPU, TOOL_CPU,
# RUN_LIMIT, SERVER_ENV (e.g. GOGC=100), LOAD_TOOL (built from this tree
# when unset), TOOL_FLAGS (more flags of the load tool, e.g.
# -answer-modes), KEEP=1 keeps the JSON reports.
#
# Prints one tab-separated line a run: scenario, build, run, load (1 min),
# latency p50/p90/p99/max in ms, seen/expected, lost, evicted, server
# cores while sending, server CPU µs per delivery.
set -eu

RUNS=${RUNS:-1}
DURATION=${DURATION:-30s}
PORT=${PORT:-22500}
SERVER_CPU=${SERVER_CPU:-0}
TOOL_CPU=${TOOL_CPU:-1}
RUN_LIMIT=${RUN_LIMIT:-150}
ADDR=127.0.0.1:$PORT

builds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	case $1 in
	*=*) builds+=("$1") ;;
	*) echo "latency.sh: want NAME=BINARY, got $1" >&2; exit 2 ;;
	esac
	shift
done
[ $# -gt 0 ] && shift # the --
[ ${#builds[@]} -gt 0 ] || { echo "usage: scripts/latency.sh NAME=BINARY ... [-- scenario ...]" >&2; exit 2; }

cd "$(dirname "$0")/.."
SCRIPT=latency.sh
# shellcheck source=scripts/loadlib.sh
. scripts/loadlib.sh
needs go taskset jq
start_work

tool=${LOAD_TOOL:-}
if [ -z "$tool" ]; then
	tool=$work/sshchat-load
	go build -o "$tool" ./cmd/sshchat-load
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# flags_of prints the load tool's flags of a scenario SESSIONSxRATE.
flags_of() {
	case $1 in
	*x*) ;;
	*) echo "latency.sh: unknown scenario $1" >&2; exit 2 ;;
	esac
	local sessions=${1%x*} rate=${1#*x}
	echo "-n $sessions -senders $((rate * 2)) -rate $rate -duration $DURATION -connect-parallel 4 -connect-timeout 60s -warmup 3s ${TOOL_FLAGS:-}"
}

run_once() {
	scenario=$1 name=$2 bin=$3 n=$4
	data="$work/data"
	log="$work/server-$scenario-$name-$n.log"
	rm -rf "$data"
	# shellcheck disable=SC2086 # SERVER_ENV is words
	env ${SERVER_ENV:-} taskset -c "$SERVER_CPU" "$bin" serve --addr "$ADDR" --data "$data" --log-level warn >"$log" 2>&1 &
	server_pid=$!
	wait_listening "$log"
	load=$(cut -d' ' -f1 /proc/loadavg)
	out="$work/$scenario-$name-$n.json"
	# shellcheck disable=SC2046 # the flags are words
	taskset -c "$TOOL_CPU" timeout -s INT -k 10 "$RUN_LIMIT" \
		"$tool" -addr "$ADDR" -json -pid "$server_pid" $(flags_of "$scenario") >"$out" 2>"$out.err" || true
	stop_server
	jq -e . "$out" >/dev/null 2>&1 || echo '{}' >"$out"
	jq -r --arg s "$scenario" --arg b "$name" --arg n "$n" --arg load "$load" '
		def r(x): if x == null then "?" else (x * 10 | round) / 10 end;
		[$s, $b, $n, $load, r(.latency_ms.p50), r(.latency_ms.p90), r(.latency_ms.p99), r(.latency_ms.max),
		 "\(.deliveries.seen // "?")/\(.deliveries.expected // "?")", (.deliveries.lost // "?"), (.dropped.evicted // "?"),
		 r(.server.cpu_run_cores),
		 (if (.deliveries.seen // 0) > 0 then r(.server.cpu_run_s * 1e6 / .deliveries.seen) else "?" end)] | @tsv' "$out"
}

scenarios=${*:-100x10 500x50 1000x20 500x200 1000x50}
printf 'scenario\tbuild\trun\tload\tp50\tp90\tp99\tmax\tseen/expected\tlost\tevicted\tcores\tµs/delivery\n'
n=1
while [ $n -le "$RUNS" ]; do
	for scenario in $scenarios; do
		flags_of "$scenario" >/dev/null
		for b in "${builds[@]}"; do
			run_once "$scenario" "${b%%=*}" "${b#*=}" $n
		done
	done
	n=$((n + 1))
done
