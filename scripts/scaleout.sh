#!/usr/bin/env bash
# scaleout.sh — one node against two nodes sharing the chat over NATS
# JetStream, under the same load: SESSIONS sessions (1,000), RATE
# messages a second in all (50), senders at 0.5 msg/s each, 120×40 PTYs,
# 4 sessions connecting at a time, DURATION of sending (30s). With two
# nodes the load tool dials them in turn: half the sessions on each.
#
# One node: the server on core 0, the tool on core 1 (as latency.sh).
# Two nodes: node a on core 0, node b on core 1, the tool on core 1, and
# the NATS server (NATS_SERVER, default nats-server from PATH or
# /usr/sbin) on no core of its own: two cores are all there is.
# Runs alternate between the two setups; every run starts fresh servers
# and a fresh NATS store.
#
# Usage: scripts/scaleout.sh [BINARY]   (default: built from this tree)
# Environment: RUNS (1), SESSIONS (1000), RATE (50), DURATION (30s),
# PORT (22600: the nodes on PORT and PORT+1, NATS on PORT+2), KEEP=1.
#
# Prints one tab-separated line a run: setup, run, load (1 min), latency
# p50/p90/p99/max in ms, seen/expected, lost, evicted, then the CPU
# seconds of each process over the whole run (connecting included): node
# a, node b, NATS; and node a's mean publish round trip in ms, with the
# share of its publishes that took over 12.8 ms (from its metrics).
set -eu

RUNS=${RUNS:-1}
SESSIONS=${SESSIONS:-1000}
RATE=${RATE:-50}
DURATION=${DURATION:-30s}
PORT=${PORT:-22600}
RUN_LIMIT=${RUN_LIMIT:-150}

cd "$(dirname "$0")/.."
SCRIPT=scaleout.sh
# shellcheck source=scripts/loadlib.sh
. scripts/loadlib.sh
needs go taskset jq curl
nats=${NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}
[ -x "$nats" ] || { echo "$SCRIPT: needs nats-server (apt-get install nats-server, or NATS_SERVER=path)" >&2; exit 2; }
start_work

bin=${1:-}
if [ -z "$bin" ]; then
	bin=$work/sshchat
	go build -o "$bin" ./cmd/sshchat
fi
tool=$work/sshchat-load
go build -o "$tool" ./cmd/sshchat-load
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

flags="-n $SESSIONS -senders $((RATE * 2)) -rate $RATE -duration $DURATION -connect-parallel 4 -connect-timeout 60s -warmup 3s"
node_b_pid= nats_pid=

# cpu_s prints the CPU seconds (user + system) process $1 has used.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

stop_all() {
	stop_server
	for p in $node_b_pid $nats_pid; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	node_b_pid= nats_pid=
}
trap 'stop_all; cleanup' EXIT

# wait_port waits until 127.0.0.1:$1 accepts connections (10 s at most).
wait_port() {
	i=0
	while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || { echo "$SCRIPT: nothing listens on port $1; logs in $work" >&2; KEEP=1; exit 1; }
		sleep 0.1
	done
}

# publish_ms prints node a's mean publish round trip in ms and the share
# of publishes over 10 ms, from its metrics on port $1.
publish_ms() {
	curl -s "http://127.0.0.1:$1/metrics" | awk '
		/^sshchat_bus_publish_seconds_sum/ { sum = $2 }
		/^sshchat_bus_publish_seconds_count/ { count = $2 }
		/^sshchat_bus_publish_seconds_bucket\{le="0.0128"\}/ { fast = $2 }
		END { if (count > 0) printf "%.2f/%.2f%%", sum / count * 1000, (count - fast) / count * 100; else print "?" }'
}

report() { # setup run load json cpu_a cpu_b cpu_nats publish
	jq -r --arg s "$1" --arg n "$2" --arg load "$3" --arg a "$5" --arg b "$6" --arg nats "$7" --arg pub "${8:--}" '
		def r(x): if x == null then "?" else (x * 10 | round) / 10 end;
		[$s, $n, $load, r(.latency_ms.p50), r(.latency_ms.p90), r(.latency_ms.p99), r(.latency_ms.max),
		 "\(.deliveries.seen // "?")/\(.deliveries.expected // "?")", (.deliveries.lost // "?"), (.dropped.evicted // "?"),
		 $a, $b, $nats, $pub] | @tsv' "$4"
}

one_node() {
	n=$1
	rm -rf "$work/one"
	taskset -c 0 "$bin" serve --addr "127.0.0.1:$PORT" --data "$work/one" --log-level warn >"$work/one-$n.log" 2>&1 &
	server_pid=$!
	wait_port "$PORT"
	load=$(cut -d' ' -f1 /proc/loadavg)
	out="$work/one-$n.json"
	# shellcheck disable=SC2086 # the flags are words
	taskset -c 1 timeout -s INT -k 10 "$RUN_LIMIT" "$tool" -addr "127.0.0.1:$PORT" -json -pid "$server_pid" $flags >"$out" 2>"$out.err" || true
	a=$(cpu_s "$server_pid")
	stop_all
	jq -e . "$out" >/dev/null 2>&1 || echo '{}' >"$out"
	report "1 node" "$n" "$load" "$out" "$a" "-" "-"
}

two_nodes() {
	n=$1
	rm -rf "$work/a" "$work/b" "$work/nats"
	"$nats" -js -sd "$work/nats" -a 127.0.0.1 -p $((PORT + 2)) >"$work/nats-$n.log" 2>&1 &
	nats_pid=$!
	wait_port $((PORT + 2))
	url=nats://127.0.0.1:$((PORT + 2))
	taskset -c 0 "$bin" serve --addr "127.0.0.1:$PORT" --data "$work/a" --nats "$url" --node a --log-level warn \
		--metrics-addr "127.0.0.1:$((PORT + 3))" >"$work/a-$n.log" 2>&1 &
	server_pid=$!
	wait_port "$PORT"
	mkdir -m 700 "$work/b"
	cp -a "$work/a/hostkeys" "$work/b/hostkeys"
	taskset -c 1 "$bin" serve --addr "127.0.0.1:$((PORT + 1))" --data "$work/b" --nats "$url" --node b --log-level warn >"$work/b-$n.log" 2>&1 &
	node_b_pid=$!
	wait_port $((PORT + 1))
	load=$(cut -d' ' -f1 /proc/loadavg)
	out="$work/two-$n.json"
	# shellcheck disable=SC2086 # the flags are words
	taskset -c 1 timeout -s INT -k 10 "$RUN_LIMIT" "$tool" -addr "127.0.0.1:$PORT,127.0.0.1:$((PORT + 1))" -json -pid "$server_pid" $flags >"$out" 2>"$out.err" || true
	a=$(cpu_s "$server_pid") b=$(cpu_s "$node_b_pid") c=$(cpu_s "$nats_pid")
	publish=$(publish_ms "$((PORT + 3))")
	stop_all
	jq -e . "$out" >/dev/null 2>&1 || echo '{}' >"$out"
	report "2 nodes" "$n" "$load" "$out" "$a" "$b" "$c" "$publish"
}

printf 'setup\trun\tload\tp50\tp90\tp99\tmax\tseen/expected\tlost\tevicted\tcpu_a_s\tcpu_b_s\tcpu_nats_s\tpublish_ms/over_12.8ms\n'
n=1
while [ $n -le "$RUNS" ]; do
	one_node $n
	two_nodes $n
	n=$((n + 1))
done
