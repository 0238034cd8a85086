package ui

import (
	"strconv"
	"testing"

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
	}{
		{"1event", 1, 10},
		{"10events", 10, 10},
		{"1event-1000users", 1, 1000},
	} {
		// The frame drawn on a Screen, sent bytes counted.
		b.Run(bc.name+"/screen", func(b *testing.B) {
			out := &countingWriter{}
			m, msgs := benchModel(b, bc.users, NewScreen(out, nil))
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
