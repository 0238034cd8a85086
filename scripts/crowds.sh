#!/usr/bin/env bash
# crowds.sh — the crowd scenarios of cmd/sshchat-load against a freshly
# built server: join storms of 1,000 and 5,000 sessions (128 connecting at
# a time), mass departures (100, then 250, of 500 sessions at once), a
# burst (1,000 messages within 2 s into 500 screens) and a presence burst
# (2,000 /nick commands from one user in one write, 500 screens; the
# server then runs with a message rate high enough not to throttle them).
# Each scenario runs RUNS times (3), every run against a fresh server with
# a fresh data directory; the medians are printed at the end, and every
# run's line gives the machine's load averages when it started.
#
# The server runs on core SERVER_CPU (0), the tool on TOOL_CPU (1), both
# on 127.0.0.1. Every run is bounded (RUN_LIMIT seconds, 60): a run still
# going then is interrupted and reports what it has.
#
# Usage: scripts/crowds.sh [scenario ...]
#   scenarios: storm1000 storm5000 depart100 depart250 burst presence
#   (default: all)
# Environment: RUNS, PORT (22400), SERVER_CPU, TOOL_CPU, RUN_LIMIT, KEEP=1
# keeps the JSON reports and server logs (their directory is printed).
#
# Needs bash, Go, taskset and jq. The figures depend on what else the machine
# runs: on a shared machine they are indicative.
set -eu

RUNS=${RUNS:-3}
PORT=${PORT:-22400}
SERVER_CPU=${SERVER_CPU:-0}
TOOL_CPU=${TOOL_CPU:-1}
RUN_LIMIT=${RUN_LIMIT:-60}
ADDR=127.0.0.1:$PORT

cd "$(dirname "$0")/.."
SCRIPT=crowds.sh
# shellcheck source=scripts/loadlib.sh
. scripts/loadlib.sh
needs go taskset jq
start_work

echo "crowds.sh: building the server and the load tool ($(git rev-parse --short HEAD 2>/dev/null || echo '?'))" >&2
go build -o "$work/sshchat" ./cmd/sshchat
go build -o "$work/sshchat-load" ./cmd/sshchat-load
# 5,000 sessions need as many sockets in the server; the tool raises its own limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# flags_of prints the load tool's flags of a scenario.
flags_of() {
	case $1 in
	storm1000) echo "-n 1000 -idle -duration 5s -warmup 3s -connect-parallel 128 -connect-timeout 50s" ;;
	storm5000) echo "-n 5000 -idle -duration 5s -warmup 3s -connect-parallel 128 -connect-timeout 50s" ;;
	depart100) echo "-n 500 -idle -duration 10s -warmup 3s -depart 100" ;;
	depart250) echo "-n 500 -idle -duration 10s -warmup 3s -depart 250" ;;
	burst) echo "-n 500 -burst 1000 -burst-window 2s -warmup 3s" ;;
	presence) echo "-n 500 -idle -duration 10s -warmup 3s -presence 2000" ;;
	*) echo "crowds.sh: unknown scenario $1" >&2; exit 2 ;;
	esac
}

# server_flags_of prints the server's extra flags of a scenario: /nick is
# throttled by the user's message bucket, which would stop a presence
# burst after a few commands.
server_flags_of() {
	case $1 in
	presence) echo "--message-rate 10000 --message-burst 10000" ;;
	esac
}

# run_once runs scenario $1, run $2: a fresh server, then the tool.
run_once() {
	name=$1 n=$2
	data="$work/data-$name-$n"
	log="$work/server-$name-$n.log"
	# shellcheck disable=SC2046 # the flags are words
	taskset -c "$SERVER_CPU" "$work/sshchat" serve --addr "$ADDR" --data "$data" --log-level warn $(server_flags_of "$name") >"$log" 2>&1 &
	server_pid=$!
	wait_listening "$log"
	# the machine's load when the run starts: the figures depend on it
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	# shellcheck disable=SC2046 # the flags are words
	taskset -c "$TOOL_CPU" timeout -s INT -k 10 "$RUN_LIMIT" \
		"$work/sshchat-load" -addr "$ADDR" -json -pid "$server_pid" $(flags_of "$name") \
		>"$work/$name-$n.json" 2>"$work/$name-$n.err" || true
	stop_server
	rm -rf "$data"
	if ! jq -e . "$work/$name-$n.json" >/dev/null 2>&1; then
		echo "crowds.sh: $name run $n gave no report:" >&2
		tail -5 "$work/$name-$n.err" >&2
		echo '{}' >"$work/$name-$n.json"
	fi
	jq -r --arg name "$name" --arg n "$n" --arg load "$load" '"crowds.sh: \($name) run \($n) (load \($load)): \(.sessions.connected // 0) of \(.sessions.requested // 0) connected, \(.failures.evicted // "?") evicted, \(.failures.disconnected // "?") disconnected, \(.failures.lost // "?") lost, \(.failures.total // "?") failures; connect p50 \(.sessions.connect_p50_ms // "?") ms, p99 \(.sessions.connect_p99_ms // "?") ms\(if .storm then "; server CPU \(.storm.server_cpu_per_join_ms) ms per join" else "" end)"' \
		"$work/$name-$n.json" >&2
}

# medians prints one line of medians for the runs of scenario $1.
medians() {
	jq -s -r --arg name "$1" '
		def median: map(select(. != null)) | sort | if length == 0 then "-" else .[((length - 1) / 2 | floor)] end;
		def m(f): map(f) | median;
		def r(x): if x == "-" then x else (x * 100 | round) / 100 end;
		"\($name)\t\(length)\t\(m(.sessions.connected))/\(m(.sessions.requested))\t\(m(.failures.evicted))\t\(m(.failures.disconnected))\t\(m(.failures.total))\t\(r(m(.storm.server_cpu_per_join_ms)))\t\(r(m(.sessions.connect_p50_ms)))\t\(r(m(.sessions.connect_p90_ms)))\t\(r(m(.sessions.connect_p99_ms)))\t\(m(.messages.sent // null))\t\(m(.deliveries.screens.seen_min // null))\t\(m(.deliveries.lost // null))"
	' "$work/$1"-*.json
}

scenarios=${*:-storm1000 storm5000 depart100 depart250 burst presence}
for name in $scenarios; do
	flags_of "$name" >/dev/null
	n=1
	while [ $n -le "$RUNS" ]; do
		run_once "$name" $n
		n=$((n + 1))
	done
done

echo
echo "medians of $RUNS runs (server on core $SERVER_CPU, tool on core $TOOL_CPU):"
{
	printf 'scenario\truns\tconnected\tevicted\tdisconn\tfailures\tcpu/join ms\tconn p50 ms\tp90 ms\tp99 ms\tsent\tseen min/screen\tlost\n'
	for name in $scenarios; do
		medians "$name"
	done
} | if command -v column >/dev/null; then column -t -s "$(printf '\t')"; else cat; fi
