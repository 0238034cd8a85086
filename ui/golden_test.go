package ui

import (
	"strconv"
	"strings"
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

// lobbyRoster is who is online at the end of the lobby story.
func lobbyRoster() *fakeRoster {
	r := online(ann, bob, dave, erin)
	for i := range r.members {
		switch r.members[i].UserID {
		case bob.id:
			r.members[i].Sessions = 2
		case erin.id:
			r.members[i].Sessions, r.members[i].Away = 3, true
		}
	}
	return r
}

// lobbyModel is ann's session at width×height after the lobby story.
func lobbyModel(width, height int) *Model {
	history, live := lobby()
	m, _ := newModel(width, height, func(c *Config) {
		c.Rooms[0].History = history
		c.Roster = lobbyRoster()
		c.Notices = []string{"the name annie is taken: you are ann"}
	})
	send(m, EventsMsg(live))
	return m
}

// The golden screens are what a terminal shows (see shows): the bytes the
// model's Screen sent, fed to a terminal emulator.

func TestGoldenLobby(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		name := "lobby-" + strconv.Itoa(size[0]) + "x" + strconv.Itoa(size[1])
		t.Run(name, func(t *testing.T) {
			m := lobbyModel(size[0], size[1])
			checkScreen(t, m, size[0], size[1])
			golden(t, name, shows(m))
		})
	}
}

// TestGoldenScrolledUp: scrolled back a page (the terminal scrolls the
// transcript down), new messages wait below.
func TestGoldenScrolledUp(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		name := "scrolled-" + strconv.Itoa(size[0]) + "x" + strconv.Itoa(size[1])
		t.Run(name, func(t *testing.T) {
			m, _ := newModel(size[0], size[1], func(c *Config) { c.Roster = online(ann, bob, carol, dave) })
			g := newEvents()
			batch := EventsMsg{g.join(ann)}
			for i := 1; i <= 60; i++ {
				batch = append(batch, g.msg(bob, "message number "+strconv.Itoa(i)))
			}
			send(m, batch)
			painterOf(m).out.Reset()
			press(m, tea.KeyPgUp)
			if out := written(m); !strings.Contains(out, "T\x1b[r") {
				t.Errorf("PgUp did not have the terminal scroll the transcript down: %q", out)
			}
			send(m, EventsMsg{g.msg(carol, "are you there?"), g.join(dave), g.msg(dave, "hello"), g.msg(bob, "yes")})
			checkScreen(t, m, size[0], size[1])
			golden(t, name, shows(m))
		})
	}
}

// TestGoldenResized: the lobby at 80×24, the window made 120×40 (the
// member list appears) and then 80×24 again.
func TestGoldenResized(t *testing.T) {
	m := lobbyModel(80, 24)
	send(m, ResizeMsg{Width: 120, Height: 40})
	checkScreen(t, m, 120, 40)
	golden(t, "resized-120x40", shows(m))
	send(m, ResizeMsg{Width: 80, Height: 24})
	checkScreen(t, m, 80, 24)
	if got := shows(m); got != shows(lobbyModel(80, 24)) {
		t.Errorf("back at 80×24 the terminal shows\n%s\nwant what a session started at 80×24 shows", got)
	}
}

func TestGoldenHelp(t *testing.T) {
	m, _ := newModel(80, 24, withServer(&runner{}))
	g := newEvents()
	send(m, EventsMsg{g.join(ann)})
	typeText(m, "/help")
	press(m, tea.KeyEnter)
	checkScreen(t, m, 80, 24)
	golden(t, "help-80x24", shows(m))
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
			m, _ := newModel(80, 24, withServer(&runner{replies: whoReplies}), func(c *Config) {
				c.Roster = online(ann, bob, carol)
			})
			g := newEvents()
			send(m, EventsMsg{g.join(ann), g.join(bob), g.away(bob, "lunch"), g.join(carol), g.add(ann)})
			enter(m, tt.line)
			send(m, EventsMsg{g.msg(carol, "anyone up for lunch?")})
			checkScreen(t, m, 80, 24)
			golden(t, tt.name, shows(m))
		})
	}
}

func TestGoldenNewEvents(t *testing.T) {
	m, _ := newModel(80, 24, withServer(&runner{}), func(c *Config) { c.Roster = online(ann, bob, dave) })
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
	checkScreen(t, m, 80, 24)
	golden(t, "events-80x24", shows(m))
}

// roomsModel is ann's session at width×height in four rooms, #go shown
// (it has a topic), with things said in the others: a mention in #rust,
// a direct message while she reads #go.
func roomsModel(width, height int) *Model {
	g := newEvents()
	roster := online(ann, bob, carol, dave)
	roster.rooms = map[string][]Member{"go": online(ann, bob, dave).members}
	m, _ := newModel(width, height, func(c *Config) {
		c.Roster = roster
		c.Rooms = []RoomView{
			{ID: "lobby", History: []hub.Event{g.msg(bob, "morning all")}},
			{ID: "go", Topic: "Go 1.26 is out: range over func, iterators everywhere", History: []hub.Event{
				in("go", g.join(dave)), in("go", g.msg(dave, "who tried the new GC?")),
			}},
			{ID: "rust"},
			{ID: "a-room-with-a-very-long-name"},
		}
	})
	send(m, alt('2'))
	send(m, EventsMsg{
		in("go", g.msg(bob, "not yet, ann did")),
		in("lobby", g.msg(carol, "anyone for lunch?")),
		in("lobby", g.msg(bob, "me")),
		in("rust", g.msg(carol, "ann, the borrow checker won again")),
		in(DirectRoom, g.direct(carol, ann, "psst: lunch?")),
		in("go", g.said(hub.EventTypeTopic, bob, "Go 1.26: iterators everywhere")),
	})
	for i := range 120 {
		send(m, EventsMsg{in("a-room-with-a-very-long-name", g.msg(dave, "spam "+strconv.Itoa(i)))})
	}
	return m
}

// TestGoldenRooms: the room list beside the member list on a wide
// screen, what waits elsewhere in the status line on a narrow one.
func TestGoldenRooms(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		name := "rooms-" + strconv.Itoa(size[0]) + "x" + strconv.Itoa(size[1])
		t.Run(name, func(t *testing.T) {
			m := roomsModel(size[0], size[1])
			checkScreen(t, m, size[0], size[1])
			golden(t, name, shows(m))
		})
	}
}
