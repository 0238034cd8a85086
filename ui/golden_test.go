package ui

import (
	"strconv"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sshchat/sshchat/hub"
)

// lobby is a short story: the history ann finds when she arrives, then
// what happens while she is there.
func lobby() (history, live []hub.Event) {
	g := newEvents()
	history = []hub.Event{
		g.join(bob),
		g.msg(bob, "morning all"),
		g.join(carol),
		g.msg(carol, "hi Bob! Did anyone look at the deploy from last night? The "+
			"dashboards were red for about ten minutes and then everything recovered "+
			"on its own."),
		g.msg(bob, "looking"),
	}
	live = []hub.Event{
		g.join(ann),
		g.msg(bob, "welcome ann"),
		g.msg(ann, "thanks! 👋"),
		g.join(dave),
		g.msg(dave, "漢字もテストします: 日本語の文章は単語の間に空白がないので、どこでも折り返せます。"),
		g.add(bob),
		g.leave(carol, "evicted: fell 256 events behind"),
		g.msg(dave, "👩‍💻 e\u0301 \x1b]0;pwned\x07ok"),
	}
	return history, live
}

func TestGoldenLobby80x24(t *testing.T) {
	history, live := lobby()
	m, _ := newModel(80, 24, func(c *Config) {
		c.History = history
		c.Users = []hub.User{
			{UserID: bob.id, Name: bob.name, Sessions: 1},
			{UserID: carol.id, Name: carol.name, Sessions: 1},
			{UserID: ann.id, Name: ann.name, Sessions: 1},
		}
		c.Notices = []string{"the name annie is taken: you are ann"}
	})
	send(m, EventsMsg(live))
	view := m.View()
	checkScreen(t, view, 80, 24)
	golden(t, "lobby-80x24", view)
}

func TestGoldenMembers120x30(t *testing.T) {
	history, live := lobby()
	g := &events{id: 100, time: t0 + 3600}
	live = append(live,
		g.join(erin), g.add(erin), g.add(erin),
		g.msg(erin, "three terminals, one me"),
		g.add(dave), g.remove(dave),
	)
	m, _ := newModel(120, 30, func(c *Config) {
		c.History = history
		c.Users = []hub.User{
			{UserID: bob.id, Name: bob.name, Sessions: 1},
			{UserID: carol.id, Name: carol.name, Sessions: 1},
			{UserID: ann.id, Name: ann.name, Sessions: 1},
		}
	})
	send(m, EventsMsg(live))
	view := m.View()
	checkScreen(t, view, 120, 30)
	golden(t, "members-120x30", view)
}

func TestGoldenHelp(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	send(m, EventsMsg{g.join(ann)})
	typeText(m, "/help")
	press(m, tea.KeyEnter)
	view := m.View()
	checkScreen(t, view, 80, 24)
	golden(t, "help-80x24", view)
}

func TestGoldenScrolledUp(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	batch := EventsMsg{g.join(ann)}
	for i := 1; i <= 60; i++ {
		batch = append(batch, g.msg(bob, "message number "+strconv.Itoa(i)))
	}
	send(m, batch)
	press(m, tea.KeyPgUp)
	send(m, EventsMsg{g.msg(carol, "are you there?"), g.join(dave), g.msg(dave, "hello"), g.msg(bob, "yes")})
	view := m.View()
	checkScreen(t, view, 80, 24)
	golden(t, "scrolled-80x24", view)
}
