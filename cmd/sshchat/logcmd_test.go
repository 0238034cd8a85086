package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sshchat/sshchat/history"
	"github.com/sshchat/sshchat/hub"
)

const (
	logAliceKey = "SHA256:WKBPZJq8go5q+vhFGkByCUDx4ofyVvAxaUmoTgwzyzw"
	logBobKey   = "SHA256:bOb0000000000000000000000000000000000000000"
)

// logT0 is the time of the first event of logEvents.
var logT0 = time.Date(2026, 11, 27, 14, 3, 5, 0, time.UTC)

// logEvents is a short life of the lobby, one event a second from logT0;
// logHuman is how `sshchat log` shows it in UTC.
var (
	logEvents = []hub.Event{
		{Type: "join", UserID: logAliceKey, SessionID: "s1", Name: "alice"},
		{Type: "message", UserID: logAliceKey, Name: "alice", Message: "hello"},
		{Type: "join", UserID: logBobKey, SessionID: "s2", Name: "bob"},
		{Type: "message", UserID: logBobKey, Name: "bob", Message: "hi alice\nhow are you?"},
		{Type: "add", UserID: logAliceKey, SessionID: "s3", Name: "alice"},
		{Type: "remove", UserID: logAliceKey, SessionID: "s3", Name: "alice", Reason: "evicted: fell 256 events behind"},
		{Type: "message", UserID: logAliceKey, Name: "alice", Message: "bye"},
		{Type: "leave", UserID: logBobKey, SessionID: "s2", Name: "bob", Reason: "connection lost"},
		{Type: "close"},
	}
	logHuman = []string{
		"2026-11-27 14:03:05 #lobby → alice joined",
		"2026-11-27 14:03:06 #lobby alice: hello",
		"2026-11-27 14:03:07 #lobby → bob joined",
		"2026-11-27 14:03:08 #lobby bob: hi alice\n" +
			"                                how are you?",
		"2026-11-27 14:03:09 #lobby alice +1 session",
		"2026-11-27 14:03:10 #lobby alice −1 session (evicted: fell 256 events behind)",
		"2026-11-27 14:03:11 #lobby alice: bye",
		"2026-11-27 14:03:12 #lobby ← bob left (connection lost)",
		"2026-11-27 14:03:13 #lobby server is shutting down",
	}
)

// lobbyLog returns logEvents with their IDs, room and times.
func lobbyLog() []hub.Event {
	es := make([]hub.Event, len(logEvents))
	for i, e := range logEvents {
		e.ID, e.ChatRoomID, e.UnixTime = i+1, "lobby", logT0.Unix()+int64(i)
		es[i] = e
	}
	return es
}

// encodeLogLine encodes e as the server's log writer does, with its '\n'.
func encodeLogLine(t testing.TB, e hub.Event) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func encodeLogLines(t testing.TB, es []hub.Event) []string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = encodeLogLine(t, e)
	}
	return lines
}

// writeDataDir writes DIR/events.log from parts (lines with their '\n', or
// anything else) in a new data directory and returns the directory.
func writeDataDir(t testing.TB, parts ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "events.log"), []byte(strings.Join(parts, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func appendToLog(t testing.TB, path string, parts ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(strings.Join(parts, "")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// runLogArgs runs `sshchat log args...` to its end.
func runLogArgs(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"log", "--tz", "UTC"}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

// outputOf is want as the command prints it, a line each.
func outputOf(want ...string) string {
	if len(want) == 0 {
		return ""
	}
	return strings.Join(want, "\n") + "\n"
}

// pickIDs returns the elements of s at the given 1-based positions (event IDs).
func pickIDs(s []string, ids ...int) []string {
	var out []string
	for _, id := range ids {
		out = append(out, s[id-1])
	}
	return out
}

func TestLogHumanAndFilters(t *testing.T) {
	dir := writeDataDir(t, encodeLogLines(t, lobbyLog())...)
	at := func(sec int) string { return logT0.Add(time.Duration(sec) * time.Second).Format(time.RFC3339) }
	for _, tc := range []struct {
		name string
		args []string
		want []int // IDs, shown as logHuman shows them
	}{
		{"everything", nil, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"messages", []string{"--type", "message"}, []int{2, 4, 7}},
		{"two types", []string{"--type", "join,leave"}, []int{1, 3, 8}},
		{"type any case and spaces", []string{"--type", "JOIN, Close"}, []int{1, 3, 9}},
		{"user by name any case", []string{"--user", "ALICE"}, []int{1, 2, 5, 6, 7}},
		{"user by fingerprint", []string{"--user", logBobKey}, []int{3, 4, 8}},
		{"unknown user", []string{"--user", "carol"}, nil},
		{"since", []string{"--since", at(7)}, []int{8, 9}},
		{"since with an offset", []string{"--since", logT0.Add(7 * time.Second).In(time.FixedZone("", -5*3600)).Format(time.RFC3339)}, []int{8, 9}},
		{"until", []string{"--until", at(2)}, []int{1, 2}},
		{"window", []string{"--since", at(3), "--until", at(6)}, []int{4, 5, 6}},
		{"last 3", []string{"-n", "3"}, []int{7, 8, 9}},
		{"last 2 messages", []string{"-n", "2", "--type", "message"}, []int{4, 7}},
		{"last 2 of bob", []string{"-n", "2", "--user", "bob"}, []int{4, 8}},
		{"more than there are", []string{"-n", "100"}, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"all filters", []string{"-n", "1", "--type", "message", "--user", "alice", "--since", at(0), "--until", at(5)}, []int{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runLogArgs(append([]string{"--data", dir}, tc.args...)...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if want := outputOf(pickIDs(logHuman, tc.want...)...); stdout != want {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
			}
		})
	}
}

// TestLogRelativeTimes checks --since and --until given as durations back
// from now.
func TestLogRelativeTimes(t *testing.T) {
	now := time.Now()
	var es []hub.Event
	for i, ago := range []time.Duration{3 * time.Hour, 90 * time.Minute, 30 * time.Minute, time.Minute} {
		es = append(es, hub.Event{ID: i + 1, ChatRoomID: "lobby", Type: "message", UserID: logAliceKey, Name: "alice",
			Message: "m" + strconv.Itoa(i+1), UnixTime: now.Add(-ago).Unix()})
	}
	all := encodeLogLines(t, es)
	dir := writeDataDir(t, all...)
	for _, tc := range []struct {
		args []string
		want []int
	}{
		{[]string{"--since", "2h"}, []int{2, 3, 4}},
		{[]string{"--since", "45m"}, []int{3, 4}},
		{[]string{"--until", "1h"}, []int{1, 2}},
		{[]string{"--since", "2h", "--until", "10m"}, []int{2, 3}},
		{[]string{"--since", "5000s"}, []int{3, 4}},
	} {
		stdout, stderr, code := runLogArgs(append([]string{"--data", dir, "--json"}, tc.args...)...)
		if code != 0 || stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", tc.args, code, stderr)
		}
		if want := strings.Join(pickIDs(all, tc.want...), ""); stdout != want {
			t.Errorf("%v: stdout:\n%s\nwant:\n%s", tc.args, stdout, want)
		}
	}
}

func TestLogJSONIsTheStoredLines(t *testing.T) {
	es := lobbyLog()
	// A newer server's field and odd spacing must come out as stored.
	all := append(encodeLogLines(t, es), `{"id":10,"chatroomId":"lobby","type":"message","userId":"`+logAliceKey+`","name":"alice","message":"later","unixTime":1795747380,"mood":"fine"}`+"\n")
	all = append(all, `{ "id": 11, "type": "join", "userId": "`+logBobKey+`", "name": "bob", "unixTime": 1795747381 }`+"\n")
	// An unfinished last line is a write in progress: not shown, no warning.
	dir := writeDataDir(t, append(all, `{"id":12,"chatroomId":"lob`)...)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, strings.Join(all, "")},
		{[]string{"-n", "2"}, strings.Join(all[9:], "")},
		{[]string{"--type", "join"}, strings.Join(pickIDs(all, 1, 3, 11), "")},
	} {
		stdout, stderr, code := runLogArgs(append([]string{"--data", dir, "--json"}, tc.args...)...)
		if code != 0 || stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", tc.args, code, stderr)
		}
		if stdout != tc.want {
			t.Errorf("%v: stdout:\n%s\nwant byte for byte:\n%s", tc.args, stdout, tc.want)
		}
	}
}

func TestLogLocalTime(t *testing.T) {
	dir := writeDataDir(t, encodeLogLines(t, lobbyLog()[:2])...)
	stdout, _, code := runLogArgs("--data", dir, "--tz", "Asia/Tokyo")
	want := outputOf("2026-11-27 23:03:05 #lobby → alice joined", "2026-11-27 23:03:06 #lobby alice: hello")
	if code != 0 || stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s", code, stdout, want)
	}
}

// TestLogHostileText checks that nothing in the log reaches the terminal
// as a control character or an escape sequence.
func TestLogHostileText(t *testing.T) {
	const osc = "\x1b]0;pwned\x07"
	es := []hub.Event{
		{ID: 1, ChatRoomID: "lob\x1b[2Jby", Type: "join", UserID: logAliceKey, Name: "ev\x1b[31mil" + osc, UnixTime: logT0.Unix()},
		{ID: 2, ChatRoomID: "lobby", Type: "message", UserID: logAliceKey, Name: "evil", Message: osc + "hi\r\nthere\u202egnp.exe\u009b31m\x07", UnixTime: logT0.Unix()},
		{ID: 3, ChatRoomID: "lobby", Type: "leave", UserID: logAliceKey, Name: "evil", Reason: "bye" + osc + "\nnext", UnixTime: logT0.Unix()},
		{ID: 4, ChatRoomID: "lobby", Type: "remove", UserID: "SHA256:\x1b]8;;http://x\x07abcdefghij", UnixTime: logT0.Unix()},
	}
	dir := writeDataDir(t, encodeLogLines(t, es)...)
	for _, args := range [][]string{{"--data", dir}, {"--data", dir, "-n", "10"}} {
		stdout, stderr, code := runLogArgs(args...)
		if code != 0 || stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
		}
		if strings.Contains(stdout, osc) || strings.Contains(stdout, "pwned") {
			t.Errorf("%v: the title sequence got through:\n%q", args, stdout)
		}
		for _, r := range stdout {
			if r < 0x20 && r != '\n' || r >= 0x7f && r <= 0x9f || r == '\u202e' {
				t.Errorf("%v: output holds %U:\n%q", args, r, stdout)
			}
		}
		want := outputOf(
			"2026-11-27 14:03:05 #lobby → evil joined",
			"2026-11-27 14:03:05 #lobby evil: hi\n"+
				"                                 theregnp.exe",
			"2026-11-27 14:03:05 #lobby ← evil left (bye next)",
			"2026-11-27 14:03:05 #lobby abcdefgh −1 session",
		)
		if stdout != want {
			t.Errorf("%v: stdout:\n%q\nwant:\n%q", args, stdout, want)
		}
	}
}

func TestLogDimsSystemEventsOnATerminal(t *testing.T) {
	var b bytes.Buffer
	p := &logPrinter{w: bufio.NewWriter(&b), color: true, loc: time.UTC}
	for _, e := range lobbyLog()[:3] {
		if err := p.print(recordOf(t, e)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.flush(); err != nil {
		t.Fatal(err)
	}
	want := outputOf(
		"\x1b[2m2026-11-27 14:03:05 #lobby → alice joined\x1b[0m",
		"2026-11-27 14:03:06 #lobby alice: hello",
		"\x1b[2m2026-11-27 14:03:07 #lobby → bob joined\x1b[0m",
	)
	if got := b.String(); got != want {
		t.Errorf("output:\n%q\nwant:\n%q", got, want)
	}
}

func TestLogColorOnlyOnATerminal(t *testing.T) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0) // a character device, as a terminal is
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, tc := range []struct {
		name          string
		w             io.Writer
		noColor, term string
		want          bool
	}{
		{"terminal", devNull, "", "xterm", true},
		{"terminal with NO_COLOR", devNull, "1", "xterm", false},
		{"terminal with empty NO_COLOR", devNull, "", "xterm", true},
		{"dumb terminal", devNull, "", "dumb", false},
		{"file", file, "", "xterm", false},
		{"buffer", &bytes.Buffer{}, "", "xterm", false},
	} {
		t.Setenv("NO_COLOR", tc.noColor)
		t.Setenv("TERM", tc.term)
		if got := colorOutput(tc.w); got != tc.want {
			t.Errorf("%s: colorOutput = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func recordOf(t *testing.T, e hub.Event) history.Record {
	t.Helper()
	return history.Record{Event: e, Raw: []byte(strings.TrimSuffix(encodeLogLine(t, e), "\n"))}
}

func TestLogBadInput(t *testing.T) {
	dir := writeDataDir(t, encodeLogLines(t, lobbyLog())...)
	empty := t.TempDir()
	notAFile := t.TempDir()
	if err := os.Mkdir(filepath.Join(notAFile, "events.log"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string // after --data dir
		code int
		want string // the one line on stderr starts with "sshchat log: "+want
	}{
		{"unknown flag", []string{"--bogus"}, 2, "flag provided but not defined: -bogus (sshchat log --help lists the flags)"},
		{"argument", []string{"alice"}, 2, `unexpected argument "alice" (sshchat log --help lists the flags)`},
		{"bad since", []string{"--since", "yesterday"}, 2, `invalid value "yesterday" for flag -since: neither a duration back from now (90s, 30m, 2h; 24h for a day) nor an RFC3339 time (2026-11-27T14:00:00Z) (sshchat log --help lists the flags)`},
		{"bad until", []string{"--until", "2026-13-01T00:00:00Z"}, 2, `invalid value "2026-13-01T00:00:00Z" for flag -until: neither a duration`},
		{"negative duration", []string{"--since", "-2h"}, 2, `invalid value "-2h" for flag -since: a duration back from now must not be negative`},
		{"since not before until", []string{"--since", "1h", "--until", "2h"}, 2, "--since must be before --until"},
		{"unknown type", []string{"--type", "message,dance"}, 2, `invalid value "message,dance" for flag -type: unknown event type "dance" (known: message, join,`},
		{"empty type", []string{"--type", ""}, 2, `invalid value "" for flag -type: unknown event type ""`},
		{"n not a number", []string{"-n", "ten"}, 2, `invalid value "ten" for flag -n: not a whole number`},
		{"negative n", []string{"-n", "-1"}, 2, `invalid value "-1" for flag -n: must not be negative`},
		{"n 0", []string{"-n", "0"}, 2, "-n 0 selects nothing: leave -n out to print every event, or add -f to follow new ones"},
		{"follow until", []string{"-f", "--until", "1h"}, 2, "-f and --until cannot be used together"},
		{"empty data", []string{"--data", ""}, 2, "--data must not be empty"},
		{"missing log", []string{"--data", empty}, 1, "no event log at " + filepath.Join(empty, "events.log") + " (set --data or SSHCHAT_DATA to the data directory)"},
		{"missing log, -n", []string{"--data", empty, "-n", "5"}, 1, "no event log at "},
		{"missing log, -f", []string{"--data", empty, "-f"}, 1, "no event log at "},
		{"log is a directory", []string{"--data", notAFile}, 1, "read " + filepath.Join(notAFile, "events.log") + ": "},
		{"log is a directory, -n", []string{"--data", notAFile, "-n", "5"}, 1, "tail log " + filepath.Join(notAFile, "events.log") + ": "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runLogArgs(append([]string{"--data", dir}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if !strings.HasPrefix(stderr, "sshchat log: "+tc.want) || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
				t.Errorf("stderr %q, want one line starting %q", stderr, "sshchat log: "+tc.want)
			}
		})
	}
}

func TestLogHelp(t *testing.T) {
	stdout, stderr, code := runLogArgs("--help")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"usage: sshchat log", "-data", "-f", "-json", "-n N", "-since time", "-type types", "-until time", "-user user"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--help does not mention %q:\n%s", want, stdout)
		}
	}
}

func TestLogDataFromEnvironment(t *testing.T) {
	dir := writeDataDir(t, encodeLogLines(t, lobbyLog())...)
	t.Setenv("SSHCHAT_DATA", dir)
	stdout, stderr, code := runLogArgs("-n", "1")
	if want := outputOf(logHuman[8]); code != 0 || stdout != want {
		t.Errorf("SSHCHAT_DATA: exit %d, stdout %q, stderr %q; want %q", code, stdout, stderr, want)
	}
	// The flag wins.
	_, stderr, code = runLogArgs("-n", "1", "--data", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "no event log at") {
		t.Errorf("--data over SSHCHAT_DATA: exit %d, stderr %q", code, stderr)
	}
}

func TestLogCorruptLines(t *testing.T) {
	all := encodeLogLines(t, lobbyLog())
	garbage := "\x1b]0;pwned\x07garbage\n"
	dir := writeDataDir(t, all[0], garbage, all[1], "{\"id\":0}\n", all[2])
	off1 := len(all[0])
	off2 := off1 + len(garbage) + len(all[1])
	for _, tc := range []struct {
		args     []string
		warnings []string
	}{
		{nil, []string{
			fmt.Sprintf("sshchat log: skipping line 2 at offset %d: history: corrupt line: invalid character '\\x1b' looking for beginning of value", off1),
			fmt.Sprintf("sshchat log: skipping line 4 at offset %d: history: corrupt line: id 0 is not positive", off2),
		}},
		{[]string{"-n", "5"}, []string{ // read from the end
			fmt.Sprintf("sshchat log: skipping line at offset %d: history: corrupt line: id 0 is not positive", off2),
			fmt.Sprintf("sshchat log: skipping line at offset %d: history: corrupt line: invalid character '\\x1b' looking for beginning of value", off1),
		}},
	} {
		stdout, stderr, code := runLogArgs(append([]string{"--data", dir}, tc.args...)...)
		if code != 0 {
			t.Errorf("%v: exit %d, want 0", tc.args, code)
		}
		if want := outputOf(logHuman[:3]...); stdout != want {
			t.Errorf("%v: stdout:\n%s\nwant:\n%s", tc.args, stdout, want)
		}
		if want := outputOf(tc.warnings...); stderr != want {
			t.Errorf("%v: stderr:\n%q\nwant:\n%q", tc.args, stderr, want)
		}
	}
}

// lockedBuffer is the output of a follow: written by its goroutine, read by
// the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startLog runs `sshchat log args...` in the background until stop, which
// returns its exit status.
func startLog(t *testing.T, args ...string) (stdout, stderr *lockedBuffer, stop func() int) {
	t.Helper()
	stdout, stderr = new(lockedBuffer), new(lockedBuffer)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"log", "--tz", "UTC"}, args...), stdout, stderr) }()
	code, stopped := 0, false
	stop = func() int {
		if !stopped {
			stopped = true
			cancel()
			select {
			case code = <-done:
			case <-time.After(wait):
				t.Fatal("sshchat log -f did not end after its context")
			}
		}
		return code
	}
	t.Cleanup(func() { stop() })
	return stdout, stderr, stop
}

// waitOutput polls b until it holds exactly want; what it holds on the way
// must be a beginning of want.
func waitOutput(t *testing.T, b *lockedBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		got := b.String()
		if got == want {
			return
		}
		if !strings.HasPrefix(want, got) || time.Now().After(deadline) {
			t.Fatalf("output:\n%s\nwant:\n%s", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logMessage returns alice's message number id, and how the log shows it in
// UTC.
func logMessage(t testing.TB, id int) (line, human string) {
	e := hub.Event{ID: id, ChatRoomID: "lobby", Type: "message", UserID: logAliceKey, Name: "alice",
		Message: "m" + strconv.Itoa(id), UnixTime: logT0.Unix() + int64(id)}
	return encodeLogLine(t, e), time.Unix(e.UnixTime, 0).UTC().Format(logTimeLayout) + " #lobby alice: m" + strconv.Itoa(id)
}

// logMessages returns the log lines and the human lines of messages from..to.
func logMessages(t testing.TB, from, to int) (lines, human []string) {
	for id := from; id <= to; id++ {
		l, h := logMessage(t, id)
		lines, human = append(lines, l), append(human, h)
	}
	return lines, human
}

func TestLogFollowRotationAndTruncation(t *testing.T) {
	logLines, human := logMessages(t, 1, 18)
	dir := writeDataDir(t, logLines[:12]...)
	path := filepath.Join(dir, "events.log")
	stdout, stderr, stop := startLog(t, "--data", dir, "-f")

	// Without -n, the last 10 first, as tail -f does.
	waitOutput(t, stdout, outputOf(human[2:12]...))

	appendToLog(t, path, logLines[12])
	waitOutput(t, stdout, outputOf(human[2:13]...))

	// A corrupt line is reported and skipped.
	appendToLog(t, path, "garbage\n", logLines[13])
	waitOutput(t, stdout, outputOf(human[2:14]...))
	if got := stderr.String(); !strings.HasPrefix(got, "sshchat log: skipping line at offset ") || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr %q, want one warning", got)
	}

	// Rotation: the end of the old file, then the new one from its start.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendToLog(t, path+".1", logLines[14])
	appendToLog(t, path, logLines[15], logLines[16])
	waitOutput(t, stdout, outputOf(human[2:17]...))

	// Truncation: from the start of the shorter file.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendToLog(t, path, logLines[17])
	waitOutput(t, stdout, outputOf(human[2:18]...))

	if code := stop(); code != 0 {
		t.Errorf("exit %d after the context ended, want 0", code)
	}
	if got := stderr.String(); strings.Count(got, "\n") != 1 {
		t.Errorf("stderr %q, want the one warning", got)
	}
}

func TestLogFollowFiltered(t *testing.T) {
	dir := writeDataDir(t, encodeLogLines(t, lobbyLog())...)
	stdout, _, stop := startLog(t, "--data", dir, "-f", "-n", "2", "--type", "message", "--json")
	es := lobbyLog()
	waitOutput(t, stdout, encodeLogLine(t, es[3])+encodeLogLine(t, es[6]))

	join := hub.Event{ID: 10, ChatRoomID: "lobby", Type: "join", UserID: logBobKey, SessionID: "s4", Name: "bob", UnixTime: logT0.Unix() + 10}
	msg, _ := logMessage(t, 11)
	appendToLog(t, filepath.Join(dir, "events.log"), encodeLogLine(t, join), msg)
	waitOutput(t, stdout, encodeLogLine(t, es[3])+encodeLogLine(t, es[6])+msg)
	if code := stop(); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}

// TestLogFollowOnlyNew checks -n 0 -f: nothing of what the log held, then
// every event appended.
func TestLogFollowOnlyNew(t *testing.T) {
	logLines, human := logMessages(t, 1, 200)
	dir := writeDataDir(t, logLines[:5]...)
	path := filepath.Join(dir, "events.log")
	stdout, _, stop := startLog(t, "--data", dir, "-f", "-n", "0")

	// Events appended before the follow has started are not shown, those
	// appended after are: append until some are, then they must be the
	// last ones appended, each once, in order.
	first, last := -1, 4
	deadline := time.Now().Add(wait)
	for first < 0 {
		if last == len(logLines)-3 || time.Now().After(deadline) {
			t.Fatalf("no appended event was shown; output %q", stdout.String())
		}
		last++
		appendToLog(t, path, logLines[last])
		for end := time.Now().Add(50 * time.Millisecond); first < 0 && time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
			got, _, _ := strings.Cut(stdout.String(), "\n")
			for i := 5; i <= last && got != ""; i++ {
				if got == human[i] {
					first = i
				}
			}
			if got != "" && first < 0 {
				t.Fatalf("output starts with %q, not an appended event", got)
			}
		}
	}
	waitOutput(t, stdout, outputOf(human[first:last+1]...))
	appendToLog(t, path, logLines[last+1], logLines[last+2])
	waitOutput(t, stdout, outputOf(human[first:last+3]...))
	if code := stop(); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}

// BenchmarkLogTail runs `sshchat log -n 100` on a log of
// SSHCHAT_BENCH_LOG_MB megabytes (default 64).
func BenchmarkLogTail(b *testing.B) {
	dir := benchLogDir(b)
	args := []string{"log", "--data", dir, "-n", "100"}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), args, &out, &errOut); code != 0 || strings.Count(out.String(), "\n") < 100 {
		b.Fatalf("exit %d, %d lines, stderr %q", code, strings.Count(out.String(), "\n"), errOut.String())
	}
	b.ResetTimer()
	for b.Loop() {
		if code := run(context.Background(), args, io.Discard, &errOut); code != 0 {
			b.Fatalf("exit %d: %s", code, errOut.String())
		}
	}
}

// benchLogDir writes a data directory whose events.log has
// SSHCHAT_BENCH_LOG_MB megabytes of a busy room's events.
func benchLogDir(b *testing.B) string {
	b.Helper()
	mb := 64
	if s := os.Getenv("SSHCHAT_BENCH_LOG_MB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("SSHCHAT_BENCH_LOG_MB=%q: want a positive number", s)
		}
		mb = n
	}
	// Encoded events differ only in what follows the ID: keep that part and
	// write each with a new ID.
	var tails []string
	for i, e := range lobbyLog()[:8] {
		if e.Type == "message" {
			e.Message = strings.Repeat("a fairly ordinary chat message ", 1+i%4)
		}
		e.ID = 0
		tails = append(tails, strings.TrimPrefix(encodeLogLine(b, e), `{"id":0`))
	}
	dir := b.TempDir()
	f, err := os.Create(filepath.Join(dir, "events.log"))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	for id, size := 1, 0; size < mb<<20; id++ {
		buf = append(strconv.AppendInt(append(buf[:0], `{"id":`...), int64(id), 10), tails[id%len(tails)]...)
		w.Write(buf)
		size += len(buf)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}
