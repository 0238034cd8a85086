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
	view := settled(m)
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
	view := settled(m)
	checkScreen(t, view, 120, 30)
	golden(t, "members-120x30", view)
}

func TestGoldenHelp(t *testing.T) {
	m, _ := newModel(80, 24, withServer(&runner{}))
	g := newEvents()
	send(m, EventsMsg{g.join(ann)})
	typeText(m, "/help")
	press(m, tea.KeyEnter)
	view := settled(m)
	checkScreen(t, view, 80, 24)
	golden(t, "help-80x24", view)
}

// whoReplies are the fake server's answers to /who and /whois.
var whoReplies = map[string]string{
	"who": "online: 3\n" +
		"  ann                 2 sessions  idle 3m\n" +
		"  Bob (away: lunch)   1 session   idle 12s\n" +
		"  carol               1 session   idle 1h\n",
	"whois": "Bob\n" +
		"  key       SHA256:bob0000000000000000000000000000000000000000\n" +
		"  online    since 22:14, 1 session, idle 12s\n" +
		"  away      lunch\n",
}

func TestGoldenWho(t *testing.T) {
	for _, tt := range []struct{ name, line string }{
		{"who-80x24", "/who"},
		{"whois-80x24", "/whois bob"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newModel(80, 24, withServer(&runner{replies: whoReplies}))
			g := newEvents()
			send(m, EventsMsg{g.join(ann), g.join(bob), g.away(bob, "lunch"), g.join(carol), g.add(ann)})
			enter(m, tt.line)
			send(m, EventsMsg{g.msg(carol, "anyone up for lunch?")})
			view := settled(m)
			checkScreen(t, view, 80, 24)
			golden(t, tt.name, view)
		})
	}
}

func TestGoldenNewEvents(t *testing.T) {
	m, _ := newModel(80, 24, withServer(&runner{}))
	g := newEvents()
	send(m, EventsMsg{
		g.join(ann), g.join(bob), g.join(dave),
		g.action(bob, "waves at everyone"),
		g.msg(bob, "ann, did you see the deploy? It went red for a while and then it came back, ann"),
		g.direct(bob, ann, "can we talk about it in private?"),
		g.direct(ann, bob, "sure"),
		g.nick(ann, "annie"),
		g.away(bob, "lunch"),
		g.back(bob),
		g.notice("the name ann now comes with a different key"),
		g.moderate(hub.EventTypeKick, dave, 0, "spam"),
		g.moderate(hub.EventTypeBan, dave, t0+3*3600, "spam again"),
		g.moderate(hub.EventTypeUnban, dave, 0, ""),
		g.moderate(hub.EventTypeMute, bob, t0+3600, ""),
		g.moderate(hub.EventTypeBan, testUser{"SHA256:troll", "troll"}, 0, ""),
		g.motd("be kind; the deploy window is 14:00-16:00 UTC"),
	})
	view := settled(m)
	checkScreen(t, view, 80, 24)
	golden(t, "events-80x24", view)
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
	view := settled(m)
	checkScreen(t, view, 80, 24)
	golden(t, "scrolled-80x24", view)
}
