package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sshchat/sshchat/hub"
)

// TestArrivalsGatherIntoOneLine checks that a storm of arrivals is one
// line per minute, not one per person, on the screen and in memory.
func TestArrivalsGatherIntoOneLine(t *testing.T) {
	m, _ := newModel(80, 24)
	before := len(m.transcript.entries)
	var batch EventsMsg
	for i := range 40 {
		batch = append(batch, hub.Event{ID: i + 1, Type: hub.EventTypeJoin, UserID: fmt.Sprintf("SHA256:user%d", i), Name: fmt.Sprintf("user%d", i), UnixTime: t0 + int64(i)})
	}
	send(m, batch)
	if n := len(m.transcript.entries) - before; n != 1 {
		t.Errorf("40 arrivals in a minute made %d entries, want 1", n)
	}
	if v := shows(m); !strings.Contains(v, "22:13 ⇢ user0, user1, user2 and 37 others joined") {
		t.Errorf("no crowd line on the screen:\n%s", v)
	}
}

func TestCrowdLines(t *testing.T) {
	g := newEvents()
	join := func(u testUser, at int64) hub.Event {
		ev := g.join(u)
		ev.UnixTime = at
		return ev
	}
	leave := func(u testUser, reason string, at int64) hub.Event {
		ev := g.leave(u, reason)
		ev.UnixTime = at
		return ev
	}
	for _, tc := range []struct {
		name   string
		events []hub.Event
		want   []string // the transcript's lines, in order
	}{
		{"two", []hub.Event{join(bob, t0), join(carol, t0+5)}, []string{"⇢ Bob and carol joined"}},
		{"three", []hub.Event{join(bob, t0), join(carol, t0+5), join(dave, t0+9)}, []string{"⇢ Bob, carol and dave joined"}},
		{"four", []hub.Event{join(bob, t0), join(carol, t0+5), join(dave, t0+9), join(erin, t0+9)}, []string{"⇢ Bob, carol, dave and 1 other joined"}},
		{"another minute", []hub.Event{join(bob, t0), join(carol, t0+60)}, []string{"⇢ Bob joined", "⇢ carol joined"}},
		{"departures", []hub.Event{leave(bob, "", t0), leave(carol, "", t0+1)}, []string{"⇠ Bob and carol left"}},
		{"a reason keeps its line", []hub.Event{leave(bob, "", t0), leave(carol, "evicted: more than 1024 messages behind", t0+1), leave(dave, "", t0+2)},
			[]string{"⇠ Bob left", "⇠ carol left (evicted: more than 1024 messages behind)", "⇠ dave left"}},
		{"arrivals then departures", []hub.Event{join(bob, t0), leave(carol, "", t0+1), join(dave, t0+2)}, []string{"⇢ Bob joined", "⇠ carol left", "⇢ dave joined"}},
		{"a message between", []hub.Event{join(bob, t0), g.msg(bob, "hi"), join(carol, t0+2)}, []string{"⇢ Bob joined", "Bob: hi", "⇢ carol joined"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newModel(100, 20)
			send(m, EventsMsg(tc.events))
			v := shows(m)
			at := 0
			for _, want := range tc.want {
				i := strings.Index(v[at:], want)
				if i < 0 {
					t.Fatalf("no %q (in order) on the screen:\n%s", want, v)
				}
				at += i + len(want)
			}
			lines := 0
			for _, want := range tc.want {
				if strings.HasSuffix(want, "joined") || strings.Contains(want, "left") {
					lines++
				}
			}
			if n := strings.Count(v, "joined") + strings.Count(v, "left"); n != lines {
				t.Errorf("%d presence lines, want %d:\n%s", n, lines, v)
			}
		})
	}
}
