# loadlib.sh — what the load scripts (crowds.sh, latency.sh) share: a
# work directory removed at exit (kept with KEEP=1), the server they
# start stopped at exit, and waiting for it to listen. Source it after
# setting SCRIPT (the script's name, for messages) and PORT.

# needs exits unless every command named is installed.
needs() {
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null || { echo "$SCRIPT: needs $cmd" >&2; exit 2; }
	done
}

# start_work makes the work directory, $work, and the exit trap that
# stops the server ($server_pid) and removes $work.
start_work() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/sshchat-${SCRIPT%.sh}.XXXXXX")
	server_pid=
	trap cleanup EXIT
	trap 'exit 130' INT TERM
}

cleanup() {
	stop_server
	if [ "${KEEP:-0}" = 1 ]; then
		echo "$SCRIPT: reports and server logs kept in $work" >&2
	else
		rm -rf "$work"
	fi
}

# stop_server stops the server the script started, if it runs.
stop_server() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	server_pid=
}

# wait_listening waits until the server accepts connections, at most 10 s;
# if it does not, it prints the server's log, $1, and exits.
wait_listening() {
	i=0
	while ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$server_pid" 2>/dev/null; then
			echo "$SCRIPT: the server did not start; its log:" >&2
			cat "$1" >&2
			exit 1
		fi
		sleep 0.1
	done
}
