package ui

import (
	"io"
	"runtime"
	"strconv"
	"sync"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sshchat/sshchat/hub"
)

// benchModel is a colour session at 120×40 with 1,000 events in its
// transcript and users online.
func benchModel(b *testing.B, users int, screen *Screen) (*Model, []hub.Event) {
	b.Helper()
	g := newEvents()
	var who []testUser
	for i := range users {
		who = append(who, testUser{"SHA256:user" + strconv.Itoa(i), "user" + strconv.Itoa(i)})
	}
	msgs := make([]hub.Event, 1000)
	for i := range msgs {
		u := who[i%len(who)]
		msgs[i] = g.msg(u, "message "+strconv.Itoa(i)+": the quick brown fox jumps over the lazy dog, "+
			"and then it does it again, a little further to the right, until the line wraps")
	}
	m, _ := newModel(120, 40, func(c *Config) {
		c.Renderer = colorRenderer()
		c.Rooms[0].History = msgs[:500]
		c.Roster = online(who...)
		c.Screen = screen
	})
	m.Update(EventsMsg(msgs[500:]))
	return m, msgs
}

// countingWriter counts what a Screen sends.
type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

func BenchmarkRender(b *testing.B) {
	for _, bc := range []struct {
		name         string
		batch, users int
		margins      bool // the terminal has left and right margins
	}{
		{"1event", 1, 10, false},
		{"10events", 10, 10, false},
		{"1event-1000users", 1, 1000, false},
		{"1event-1000users-margins", 1, 1000, true},
	} {
		// The frame drawn on a Screen, sent bytes counted.
		b.Run(bc.name+"/screen", func(b *testing.B) {
			out := &countingWriter{}
			scr := NewScreen(out, nil)
			if bc.margins {
				scr.useMargins(2)
			}
			m, msgs := benchModel(b, bc.users, scr)
			batch := make(EventsMsg, bc.batch)
			next := 0
			out.n = 0
			b.ReportAllocs()
			for b.Loop() {
				for i := range batch {
					batch[i] = msgs[next%len(msgs)]
					next++
				}
				m.Update(batch)
			}
			b.ReportMetric(float64(out.n)/float64(b.N), "sent-B/op")
		})
	}
}

// BenchmarkEmptyRoom measures what a session holds for each room it is
// in beyond the first, empty and not shown (see emptyRoomBytes).
func BenchmarkEmptyRoom(b *testing.B) {
	var perRoom float64
	for b.Loop() {
		perRoom = emptyRoomBytes()
	}
	b.ReportMetric(perRoom, "B/room")
}

// emptyRoomBytes is what a session holds for each room it is in beyond
// the first, empty and not shown: sessions at 120×40, each joining 19
// rooms (the default limit is 20 a session) and going back to the first;
// the heap is read after a collection before and after.
func emptyRoomBytes() float64 {
	const sessions, extra = 50, 19
	models := make([]*Model, sessions)
	for i := range models {
		models[i], _ = newModel(120, 40, func(c *Config) {
			c.Renderer = colorRenderer()
			c.Screen = NewScreen(io.Discard, nil)
		})
	}
	before := heapInUse()
	for _, m := range models {
		for r := range extra {
			m.Update(JoinedMsg{Room: RoomView{ID: "room" + strconv.Itoa(r)}})
		}
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'1'}, Alt: true})
	}
	after := heapInUse()
	runtime.KeepAlive(models)
	return (float64(after) - float64(before)) / (sessions * extra)
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkOtherRoom is a message in a room the session is in but does
// not show: an entry, and the counter of the room list redrawn.
func BenchmarkOtherRoom(b *testing.B) {
	out := &countingWriter{}
	m, msgs := benchModel(b, 10, NewScreen(out, nil))
	m.Update(JoinedMsg{Room: RoomView{ID: "go"}})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'1'}, Alt: true})
	batch := make(EventsMsg, 1)
	next := 0
	out.n = 0
	b.ReportAllocs()
	for b.Loop() {
		batch[0] = msgs[next%len(msgs)]
		batch[0].ChatRoomID = "go"
		next++
		m.Update(batch)
	}
	b.ReportMetric(float64(out.n)/float64(b.N), "sent-B/op")
}

// crowdUsers is the roster of the benchmarks of many screens: enough users
// to fill a 120×40 screen's member list, as in a busy room.
func crowdUsers() []testUser {
	who := make([]testUser, 500)
	for i := range who {
		who[i] = testUser{"SHA256:user" + strconv.Itoa(i), "user" + strconv.Itoa(i)}
	}
	return who
}

// crowdScreens is n colour sessions at 120×40 in one room of users, each
// drawing on a Screen of its own, with history as their backlog, sharing
// what they can as the sessions of a server do.
func crowdScreens(n int, who []testUser, history []hub.Event, out io.Writer, edit ...func(*Config)) []*Model {
	roster := online(who...)
	pool := &sync.Pool{New: func() any { return new([]byte) }}
	shared := NewShared()
	models := make([]*Model, n)
	for i := range models {
		me := who[i%len(who)]
		models[i], _ = newModel(120, 40, append([]func(*Config){func(c *Config) {
			c.UserID, c.Name = me.id, me.name
			c.Renderer = colorRenderer()
			c.Rooms[0].History = history
			c.Roster = roster
			c.Screen = NewScreen(out, pool)
			c.Shared = shared
		}}, edit...)...)
	}
	return models
}

// BenchmarkScreens is one event delivered to many screens of the same
// width, as a busy room's message reaches its members: what one screen
// costs for it (ns, allocations and bytes sent per screen).
func BenchmarkScreens(b *testing.B) {
	for _, bc := range []struct {
		name string
		text func(i int) string
	}{
		// What the load tool sends: a token.
		{"short", func(i int) string { return "t" + strconv.Itoa(i%100) + "x" + strconv.Itoa(i) + "r1z" }},
		// A message of two lines.
		{"long", func(i int) string {
			return "message " + strconv.Itoa(i) + ": the quick brown fox jumps over the lazy dog, " +
				"and then it does it again, a little further to the right, until the line wraps"
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const screens = 100
			who := crowdUsers()
			g := newEvents()
			history := make([]hub.Event, 100)
			for i := range history {
				history[i] = g.msg(who[i%len(who)], bc.text(i))
			}
			out := &countingWriter{}
			models := crowdScreens(screens, who, history, out)
			batch := make(EventsMsg, 1)
			next := 0
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			out.n = 0
			for b.Loop() {
				next++
				batch[0] = g.msg(who[next%len(who)], bc.text(next))
				for _, m := range models {
					m.Update(batch)
				}
			}
			runtime.ReadMemStats(&after)
			per := float64(b.N) * screens
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/screen")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/per, "allocs/screen")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/per, "B/screen")
			b.ReportMetric(float64(out.n)/per, "sent-B/screen")
		})
	}
}

// BenchmarkIdleScreen is what an idle session's screen holds: colour, at
// 120×40, with a backlog of 100 messages, in a room of 500 users.
func BenchmarkIdleScreen(b *testing.B) {
	var per float64
	for b.Loop() {
		per = idleScreenBytes()
	}
	b.ReportMetric(per, "B/screen")
}

func idleScreenBytes() float64 {
	const screens = 50
	who := crowdUsers()
	g := newEvents()
	history := make([]hub.Event, 100)
	for i := range history {
		history[i] = g.msg(who[i%len(who)], "message "+strconv.Itoa(i)+": the quick brown fox jumps over the lazy dog")
	}
	before := heapInUse()
	models := crowdScreens(screens, who, history, io.Discard)
	after := heapInUse()
	runtime.KeepAlive(models)
	return (float64(after) - float64(before)) / screens
}
