package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sshchat/sshchat/hub"
)

// roomsLog is a log of three rooms and direct messages, interleaved as the
// bus numbers them; roomsHuman is how `sshchat log` shows it in UTC.
var (
	roomsEvents = []hub.Event{
		{ChatRoomID: "lobby", Type: "join", UserID: logAliceKey, SessionID: "s1", Name: "alice"},
		{ChatRoomID: "go", Type: "create", UserID: logAliceKey, Name: "alice", Message: "#go"},
		{ChatRoomID: "go", Type: "message", UserID: logAliceKey, Name: "alice", Message: "generics?"},
		{ChatRoomID: "rust", Type: "message", UserID: logBobKey, Name: "bob", Message: "borrowck"},
		{ChatRoomID: "@direct", Type: "direct", UserID: logBobKey, Name: "bob", To: logAliceKey, ToName: "alice", Message: "psst"},
		{ChatRoomID: "lobby", Type: "message", UserID: logBobKey, Name: "bob", Message: "hi all"},
		{ChatRoomID: "go", Type: "message", UserID: logBobKey, Name: "bob", Message: "yes"},
	}
	roomsHuman = []string{
		"2026-11-27 14:03:05 #lobby → alice joined",
		"", // create: shown as the server that wrote it knows it
		"2026-11-27 14:03:07 #go alice: generics?",
		"2026-11-27 14:03:08 #rust bob: borrowck",
		"2026-11-27 14:03:09 @direct [dm] bob → alice: psst",
		"2026-11-27 14:03:10 #lobby bob: hi all",
		"2026-11-27 14:03:11 #go bob: yes",
	}
)

func roomsLog() []hub.Event {
	es := make([]hub.Event, len(roomsEvents))
	for i, e := range roomsEvents {
		e.ID, e.UnixTime = i+1, logT0.Unix()+int64(i)
		es[i] = e
	}
	return es
}

// roomsHumanOf is roomsHuman at the given IDs, the create event as this
// build prints it.
func roomsHumanOf(t *testing.T, ids ...int) []string {
	t.Helper()
	var out []string
	for _, id := range ids {
		if id == 2 {
			line, _ := eventLine(roomsLog()[1], time.UTC)
			if !strings.HasPrefix(line, "2026-11-27 14:03:06 #go ") {
				t.Fatalf("create event shown as %q", line)
			}
			out = append(out, line)
			continue
		}
		out = append(out, roomsHuman[id-1])
	}
	return out
}

func TestLogRooms(t *testing.T) {
	all := encodeLogLines(t, roomsLog())
	dir := writeDataDir(t, all...)
	for _, tc := range []struct {
		name string
		args []string
		want []int // IDs
	}{
		{"every room", nil, []int{1, 2, 3, 4, 5, 6, 7}},
		{"one room", []string{"--room", "go"}, []int{2, 3, 7}},
		{"with # and any case", []string{"--room", "#GO"}, []int{2, 3, 7}},
		{"repeated", []string{"--room", "go", "--room", "#rust"}, []int{2, 3, 4, 7}},
		{"commas", []string{"--room", "lobby, rust"}, []int{1, 4, 6}},
		{"look-alike", []string{"--room", "#G0"}, []int{2, 3, 7}},
		{"look-alike of a room with a dash", []string{"--room", "rus_t"}, []int{4}},
		{"same room twice", []string{"--room", "go", "--room", "Go"}, []int{2, 3, 7}},
		{"direct messages", []string{"--room", "@direct"}, []int{5}},
		{"no such room", []string{"--room", "python"}, nil},
		{"last 2 of a room", []string{"--room", "go", "-n", "2"}, []int{3, 7}},
		{"room and type", []string{"--room", "lobby", "--type", "message"}, []int{6}},
		{"room and user", []string{"--room", "go", "--user", "bob"}, []int{7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runLogArgs(append([]string{"--data", dir}, tc.args...)...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if want := outputOf(roomsHumanOf(t, tc.want...)...); stdout != want {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
			}
			// --json selects the same events and prints the stored lines.
			stdout, stderr, code = runLogArgs(append([]string{"--data", dir, "--json"}, tc.args...)...)
			if code != 0 || stderr != "" {
				t.Fatalf("--json: exit %d, stderr %q", code, stderr)
			}
			if want := strings.Join(pickIDs(all, tc.want...), ""); stdout != want {
				t.Errorf("--json stdout:\n%s\nwant:\n%s", stdout, want)
			}
		})
	}
}

func TestLogRoomsFollow(t *testing.T) {
	es := roomsLog()
	dir := writeDataDir(t, encodeLogLines(t, es)...)
	path := filepath.Join(dir, "events.log")
	human, _, stopHuman := startLog(t, "--data", dir, "-f", "--room", "#go", "--room", "@direct")
	jsonOut, _, stopJSON := startLog(t, "--data", dir, "-f", "-n", "1", "--room", "go", "--json")
	waitOutput(t, human, outputOf(roomsHumanOf(t, 2, 3, 5, 7)...))
	waitOutput(t, jsonOut, encodeLogLine(t, es[6]))

	more := []hub.Event{
		{ID: 8, ChatRoomID: "rust", Type: "message", UserID: logBobKey, Name: "bob", Message: "not here", UnixTime: logT0.Unix() + 7},
		{ID: 9, ChatRoomID: "go", Type: "message", UserID: logAliceKey, Name: "alice", Message: "here", UnixTime: logT0.Unix() + 8},
		{ID: 10, ChatRoomID: "lobby", Type: "message", UserID: logBobKey, Name: "bob", Message: "nor here", UnixTime: logT0.Unix() + 9},
		{ID: 11, ChatRoomID: "@direct", Type: "direct", UserID: logAliceKey, Name: "alice", To: logBobKey, ToName: "bob", Message: "ok", UnixTime: logT0.Unix() + 10},
	}
	appendToLog(t, path, encodeLogLines(t, more)...)
	waitOutput(t, human, outputOf(append(roomsHumanOf(t, 2, 3, 5, 7),
		"2026-11-27 14:03:13 #go alice: here",
		"2026-11-27 14:03:15 @direct [dm] alice → bob: ok")...))
	waitOutput(t, jsonOut, encodeLogLine(t, es[6])+encodeLogLine(t, more[1]))
	if code := stopHuman(); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	if code := stopJSON(); code != 0 {
		t.Errorf("--json: exit %d, want 0", code)
	}
}

func TestLogRoomsBadInput(t *testing.T) {
	dir := writeDataDir(t, encodeLogLines(t, roomsLog())...)
	for _, tc := range []struct{ arg, want string }{
		{"g", `"g" is not a room`},
		{"#", `"#" is not a room`},
		{"", `"" is not a room`},
		{"go,", `"" is not a room`},
		{"g o", `"g o" is not a room`},
		{"##go", `"##go" is not a room`},
		{"@go", `"@go" is not a room`},
		{strings.Repeat("x", 33), `"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" is not a room`},
		{"gö", `"gö" is not a room`},
	} {
		stdout, stderr, code := runLogArgs("--data", dir, "--room", tc.arg)
		want := "sshchat log: invalid value " + `"` + tc.arg + `" for flag -room: ` + tc.want
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("--room %q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.arg, code, stdout, stderr, want)
		}
	}
	// The longest and shortest names are rooms.
	for _, arg := range []string{strings.Repeat("x", 32), "#go", "a_-9"} {
		if _, stderr, code := runLogArgs("--data", dir, "--room", arg); code != 0 {
			t.Errorf("--room %q: exit %d, stderr %q", arg, code, stderr)
		}
	}
}

func TestLogRoomsHelp(t *testing.T) {
	stdout, _, code := runLogArgs("--help")
	for _, want := range []string{"[--room ROOM]...", "-room room", "@direct"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("exit %d; --help does not mention %q:\n%s", code, want, stdout)
		}
	}
}
