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
	var snapshot []hub.User
	var who []testUser
	for i := range users {
		u := testUser{"SHA256:user" + strconv.Itoa(i), "user" + strconv.Itoa(i)}
		who = append(who, u)
		snapshot = append(snapshot, hub.User{UserID: u.id, Name: u.name, Sessions: 1 + i%3})
	}
	msgs := make([]hub.Event, 1000)
	for i := range msgs {
		u := who[i%len(who)]
		msgs[i] = g.msg(u, "message "+strconv.Itoa(i)+": the quick brown fox jumps over the lazy dog, "+
			"and then it does it again, a little further to the right, until the line wraps")
	}
	m, _ := newModel(120, 40, func(c *Config) {
		c.Renderer = colorRenderer()
		c.History = msgs[:500]
		c.Users = snapshot
		c.Screen = screen
	})
	m.Init()
	m.Update(EventsMsg(msgs[500:]))
	m.View()
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
		// view: the frame as a string, what Bubble Tea's renderer is given
		// (and then compares and sends row by row); screen: the frame
		// drawn on a Screen, sent bytes counted.
		for _, mode := range []string{"view", "screen"} {
			b.Run(bc.name+"/"+mode, func(b *testing.B) {
				var out *countingWriter
				var scr *Screen
				if mode == "screen" {
					out = &countingWriter{}
					scr = NewScreen(out, nil)
				}
				m, msgs := benchModel(b, bc.users, scr)
				batch := make(EventsMsg, bc.batch)
				next := 0
				if out != nil {
					out.n = 0
				}
				b.ReportAllocs()
				for b.Loop() {
					for i := range batch {
						batch[i] = msgs[next%len(msgs)]
						next++
					}
					m.Update(batch)
					_ = m.View()
				}
				if out != nil {
					b.ReportMetric(float64(out.n)/float64(b.N), "sent-B/op")
				}
			})
		}
	}
	b.Run("view-only", func(b *testing.B) {
		m, _ := benchModel(b, 10, nil)
		b.ReportAllocs()
		for b.Loop() {
			_ = m.View()
		}
	})
}
