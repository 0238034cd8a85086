package history

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/sshchat/sshchat/hub"
)

// roomEvent is event(id) in room.
func roomEvent(id int, room string) hub.Event {
	e := event(id)
	e.ChatRoomID = room
	if room == "@direct" {
		e.Type, e.To, e.SessionID = hub.EventTypeDirect, testUsers[(id+1)%len(testUsers)].id, ""
	}
	return e
}

// lastByRoom is what RecentByRoom should hold for es: the last keep events
// of each room, oldest first.
func lastByRoom(es []hub.Event, keep int) map[string][]int {
	m := map[string][]int{}
	for _, e := range es {
		m[e.ChatRoomID] = append(m[e.ChatRoomID], e.ID)
	}
	for room, ids := range m {
		m[room] = ids[max(0, len(ids)-keep):]
	}
	return m
}

// byRoomIDs is the IDs of m, room by room; an event filed under another
// room than its own shows as -ID.
func byRoomIDs(m map[string][]hub.Event) map[string][]int {
	out := map[string][]int{}
	for room, es := range m {
		for _, e := range es {
			id := e.ID
			if e.ChatRoomID != room {
				id = -id
			}
			out[room] = append(out[room], id)
		}
	}
	return out
}

func equalByRoom(a, b map[string][]int) bool {
	if len(a) != len(b) {
		return false
	}
	for room, ids := range a {
		if !slices.Equal(ids, b[room]) {
			return false
		}
	}
	return true
}

// interleaved returns n events spread at random over rooms (and "@direct"),
// IDs 1..n, as a bus numbers them; busy rooms take more turns.
func interleaved(seed uint64, n int, rooms []string) []hub.Event {
	r := rand.New(rand.NewPCG(seed, 1))
	var es []hub.Event
	for id := 1; id <= n; id++ {
		// The square favours the first rooms: some busy, some quiet.
		i := int(float64(len(rooms)) * r.Float64() * r.Float64())
		es = append(es, roomEvent(id, rooms[i]))
	}
	return es
}

func TestRecentByRoomInterleaved(t *testing.T) {
	rooms := []string{"lobby", "go", "@direct"}
	for i := range 30 {
		rooms = append(rooms, fmt.Sprintf("room-%02d", i))
	}
	es := interleaved(1, 5000, rooms)
	path := logPath(t)
	var lines []string
	for _, e := range es {
		lines = append(lines, encodeLine(t, e))
	}
	writeFile(t, path, lines...)

	for _, keep := range []int{0, 1, 7, 100, 10000} {
		l := mustOpen(t, path, Options{Keep: keep})
		got := byRoomIDs(l.RecentByRoom())
		want := lastByRoom(es, keep)
		if keep == 0 {
			want = map[string][]int{}
		}
		if !equalByRoom(got, want) {
			t.Errorf("keep %d: RecentByRoom = %v\nwant %v", keep, got, want)
		}
		if keep > 0 && len(got["@direct"]) == 0 {
			t.Errorf("keep %d: no @direct room", keep)
		}
		if got, want := ids(l.Recent()), seq(max(1, 5000-keep+1), 5000); keep > 0 && !slices.Equal(got, want) {
			t.Errorf("keep %d: Recent = %v, want the last %d overall", keep, got, keep)
		}
		if l.LastID() != 5000 {
			t.Errorf("keep %d: LastID = %d, want 5000", keep, l.LastID())
		}
		// A copy: the caller may change it.
		if m := l.RecentByRoom(); len(m["lobby"]) > 0 {
			m["lobby"][0].ID = -1
			delete(m, "go")
			if again := byRoomIDs(l.RecentByRoom()); !equalByRoom(again, want) {
				t.Errorf("keep %d: RecentByRoom changed by its caller", keep)
			}
		}
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecentByRoomQuiet: a room whose last events are far back, behind a
// great many events of other rooms, still gets them when they are within
// RecentScan; past it, it is missing and Open has read no more than the
// bound.
func TestRecentByRoomQuiet(t *testing.T) {
	const keep = 5
	quiet := []hub.Event{roomEvent(1, "quiet"), roomEvent(2, "quiet"), roomEvent(3, "quiet")}
	lines := []string{encodeLine(t, quiet[0]), encodeLine(t, quiet[1]), encodeLine(t, quiet[2])}
	size := 0
	for id := 4; id < 4+20000; id++ {
		line := encodeLine(t, roomEvent(id, fmt.Sprintf("busy%d", id%3)))
		lines = append(lines, line)
		size += len(line)
	}
	path := logPath(t)
	writeFile(t, path, lines...)
	lastLine := int64(len(lines[len(lines)-1]))

	t.Run("within", func(t *testing.T) {
		l := mustOpen(t, path, Options{Keep: keep, RecentScan: int64(size) + 1000})
		defer l.Close(context.Background())
		if got := ids(l.RecentByRoom()["quiet"]); !slices.Equal(got, []int{1, 2, 3}) {
			t.Errorf("quiet room: %v, want [1 2 3]", got)
		}
		if got := len(l.RecentByRoom()["busy1"]); got != keep {
			t.Errorf("busy1 has %d events, want %d", got, keep)
		}
	})
	t.Run("default bound", func(t *testing.T) {
		l := mustOpen(t, path, Options{Keep: keep})
		defer l.Close(context.Background())
		if l.opts.RecentScan != DefaultRecentScan {
			t.Errorf("RecentScan = %d, want DefaultRecentScan", l.opts.RecentScan)
		}
		if got := ids(l.RecentByRoom()["quiet"]); !slices.Equal(got, []int{1, 2, 3}) {
			t.Errorf("quiet room: %v, want [1 2 3]", got)
		}
	})
	t.Run("beyond", func(t *testing.T) {
		bound := int64(size) / 2
		l := mustOpen(t, path, Options{Keep: keep, RecentScan: bound})
		defer l.Close(context.Background())
		if got, ok := l.RecentByRoom()["quiet"]; ok {
			t.Errorf("quiet room beyond the bound: %v, want none", ids(got))
		}
		if l.scanned < bound || l.scanned > bound+lastLine*2 {
			t.Errorf("Open read %d bytes back, want %d and at most a line more", l.scanned, bound)
		}
		if got := len(l.RecentByRoom()["busy2"]); got != keep {
			t.Errorf("busy2 has %d events, want %d", got, keep)
		}
		if l.LastID() != 20003 {
			t.Errorf("LastID = %d, want 20003", l.LastID())
		}
	})
	t.Run("recent needs more", func(t *testing.T) {
		// Recent and LastID are complete whatever the bound.
		l := mustOpen(t, path, Options{Keep: 50, RecentScan: 1})
		defer l.Close(context.Background())
		if got := ids(l.Recent()); !slices.Equal(got, seq(20003-49, 20003)) {
			t.Errorf("Recent = %v, want the last 50", got)
		}
	})
}

// TestRecentByRoomTorn: a crash's torn last line is cut and every room's
// events before it are restored.
func TestRecentByRoomTorn(t *testing.T) {
	es := interleaved(2, 300, []string{"lobby", "go", "@direct", "rust"})
	var lines []string
	for _, e := range es {
		lines = append(lines, encodeLine(t, e))
	}
	torn := strings.TrimSuffix(encodeLine(t, roomEvent(301, "go")), "\n")[:40]
	path := logPath(t)
	writeFile(t, path, append(lines, torn)...)
	l := mustOpen(t, path, Options{Keep: 10})
	if got := l.Recovery().TornBytes; got != int64(len(torn)) {
		t.Errorf("TornBytes = %d, want %d", got, len(torn))
	}
	if got, want := byRoomIDs(l.RecentByRoom()), lastByRoom(es, 10); !equalByRoom(got, want) {
		t.Errorf("RecentByRoom = %v\nwant %v", got, want)
	}
	if l.LastID() != 300 {
		t.Errorf("LastID = %d, want 300", l.LastID())
	}
	send(t, l, []hub.Event{roomEvent(301, "go")})
	if got := ids(readAll(t, path)); !slices.Equal(got, seq(1, 301)) {
		t.Errorf("file IDs after the torn line = %v", got)
	}
}

// TestRecentByRoomOtherEncodings: lines that do not start as the writer
// writes them (another field order, an escape in the room) are decoded to
// find their room; corrupt lines are skipped.
func TestRecentByRoomOtherEncodings(t *testing.T) {
	path := logPath(t)
	writeFile(t, path,
		`{"chatroomId":"old","id":1,"type":"message","unixTime":1}`+"\n",
		`{"id":2,"chatroomId":"\u0067o","type":"message","unixTime":2}`+"\n",
		"garbage\n",
		encodeLine(t, roomEvent(3, "go")),
		`{"id":4,"type":"message","unixTime":4}`+"\n", // no room: an older writer
	)
	l := mustOpen(t, path, Options{Keep: 5})
	defer l.Close(context.Background())
	want := map[string][]int{"old": {1}, "go": {2, 3}, "": {4}}
	if got := byRoomIDs(l.RecentByRoom()); !equalByRoom(got, want) {
		t.Errorf("RecentByRoom = %v, want %v", got, want)
	}
	if l.Recovery().Corrupt != 1 {
		t.Errorf("Corrupt = %d, want 1", l.Recovery().Corrupt)
	}
}

func TestRoomOf(t *testing.T) {
	for _, tc := range []struct {
		line, room string
		ok         bool
	}{
		{`{"id":12,"chatroomId":"go","type":"message"}`, "go", true},
		{`{"id":1,"chatroomId":"@direct","type":"direct"}`, "@direct", true},
		{`{"id":1,"chatroomId":"","type":"x"}`, "", true},
		{`{"id":1,"chatroomId":"g\"o","type":"x"}`, "", false},
		{`{"id":1,"chatroomId":"g\\o","type":"x"}`, "", false},
		{`{"chatroomId":"go","id":1}`, "", false},
		{`{"id":,"chatroomId":"go"}`, "", false},
		{`{"id":1,"chatroomId":"go`, "", false},
		{``, "", false},
	} {
		room, ok := roomOf([]byte(tc.line))
		if string(room) != tc.room || ok != tc.ok {
			t.Errorf("roomOf(%s) = %q, %v; want %q, %v", tc.line, room, ok, tc.room, tc.ok)
		}
	}
}

// TestRecentByRoomMatchesDecoding compares the fast path that skips lines
// with decoding every line, on random logs of random rooms.
func TestRecentByRoomMatchesDecoding(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 2))
		var rooms []string
		for i := range 1 + r.IntN(20) {
			rooms = append(rooms, fmt.Sprintf("r%d", i))
		}
		es := interleaved(seed, 1+r.IntN(2000), rooms)
		var lines []string
		for _, e := range es {
			lines = append(lines, encodeLine(t, e))
		}
		path := logPath(t)
		writeFile(t, path, lines...)
		keep := r.IntN(50)
		l := mustOpen(t, path, Options{Keep: keep})
		want := lastByRoom(es, keep)
		if keep == 0 {
			want = map[string][]int{}
		}
		if got := byRoomIDs(l.RecentByRoom()); !equalByRoom(got, want) {
			t.Errorf("seed %d keep %d: RecentByRoom = %v\nwant %v", seed, keep, got, want)
		}
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecentByRoomSinceCreate: a room dropped and made again under the same
// name starts with the history of the new one only, from its create event.
func TestRecentByRoomSinceCreate(t *testing.T) {
	var es []hub.Event
	add := func(room, typ string) {
		e := roomEvent(len(es)+1, room)
		e.Type = typ
		es = append(es, e)
	}
	add("go", hub.EventTypeCreate)
	add("go", hub.EventTypeMessage)
	add("lobby", hub.EventTypeMessage)
	add("go", hub.EventTypeDrop)
	add("go", hub.EventTypeClose)
	add("rust", hub.EventTypeCreate) // 6
	add("go", hub.EventTypeCreate)   // 7
	add("go", hub.EventTypeMessage)  // 8
	add("lobby", hub.EventTypeMessage)
	path := logPath(t)
	writeFile(t, path, encodeLines(t, es)...)
	l := mustOpen(t, path, Options{Keep: 10})
	defer l.Close(context.Background())
	want := map[string][]int{"go": {7, 8}, "rust": {6}, "lobby": {3, 9}}
	if got := byRoomIDs(l.RecentByRoom()); !equalByRoom(got, want) {
		t.Errorf("RecentByRoom = %v, want %v", got, want)
	}
	if got := ids(l.Recent()); !slices.Equal(got, seq(1, 9)) {
		t.Errorf("Recent = %v, want every event", got)
	}
}

func encodeLines(t *testing.T, es []hub.Event) []string {
	var lines []string
	for _, e := range es {
		lines = append(lines, encodeLine(t, e))
	}
	return lines
}
