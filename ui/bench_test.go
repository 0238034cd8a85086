package ui

import (
	"strconv"
	"testing"

	"github.com/sshchat/sshchat/hub"
)

// benchModel is a colour session at 120×40 with 1,000 events in its
// transcript and users online.
func benchModel(b *testing.B, users int) (*Model, []hub.Event) {
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
	})
	m.Update(EventsMsg(msgs[500:]))
	m.View()
	return m, msgs
}

func BenchmarkRender(b *testing.B) {
	for _, bc := range []struct {
		name         string
		batch, users int
	}{
		{"1event", 1, 10},
		{"10events", 10, 10},
		{"1event-1000users", 1, 1000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, msgs := benchModel(b, bc.users)
			batch := make(EventsMsg, bc.batch)
			next := 0
			b.ReportAllocs()
			for b.Loop() {
				for i := range batch {
					batch[i] = msgs[next%len(msgs)]
					next++
				}
				m.Update(batch)
				_ = m.View()
			}
		})
	}
	b.Run("view-only", func(b *testing.B) {
		m, _ := benchModel(b, 10)
		b.ReportAllocs()
		for b.Loop() {
			_ = m.View()
		}
	})
}
