package ui

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/sshchat/sshchat/hub"
)

// viewer is a session of the story told to screens with and without a
// Shared.
type viewer struct {
	user          testUser
	width, height int
	renderer      func() *lipgloss.Renderer
	locale        Locale
}

var viewers = []viewer{
	{ann, 120, 40, colorRenderer, Locale{}},
	{bob, 120, 40, colorRenderer, Locale{}}, // ann's look: her entries are his
	{carol, 80, 24, asciiRenderer, Locale{}},
	{dave, 120, 40, colorRenderer, Locale{ASCII: true}},
	{erin, 100, 30, colorRenderer, Locale{WideAmbiguous: true}},
	{bea, 120, 40, colorRenderer, Locale{}},
}

// story is a chat told to every viewer: history, then batches of events
// and keys, with mentions of some viewers, crowds of arrivals, wrapped and
// wide text, a rename, direct messages and a resize.
func story() (history []hub.Event, steps [][]tea.Msg) {
	h, live := lobby()
	g := newEvents()
	g.id, g.time = 100, t0+100*60
	history = h
	steps = append(steps, []tea.Msg{EventsMsg(live)})
	steps = append(steps, []tea.Msg{EventsMsg{
		g.msg(bob, "ann: did you see the dashboards?"),
		g.msg(carol, "Bob, dave and ann: standup in five"),
		g.action(dave, "waves at Erin"),
		g.direct(bob, ann, "ann, a word?"),
	}})
	crowd := EventsMsg{}
	for i := range 7 {
		ev := g.join(testUser{"SHA256:crowd" + strconv.Itoa(i), "crowd" + strconv.Itoa(i)})
		ev.UnixTime = g.time - g.time%60 // all in one minute
		crowd = append(crowd, ev)
	}
	steps = append(steps, []tea.Msg{crowd})
	steps = append(steps, []tea.Msg{EventsMsg{
		g.nick(bob, "robert"),
		g.msg(erin, strings.Repeat("long words wrap at spaces ", 12)+"ann"),
		g.msg(dave, "漢字 ✓ ╎ e\u0301 👩‍💻 and bea"),
		g.notice("maintenance at noon"),
	}})
	steps = append(steps, []tea.Msg{tea.KeyMsg{Type: tea.KeyPgUp}})
	steps = append(steps, []tea.Msg{EventsMsg{g.msg(bea, "while you read: hi ann")}, tea.KeyMsg{Type: tea.KeyPgDown}})
	steps = append(steps, []tea.Msg{ResizeMsg{Width: 90, Height: 20}, EventsMsg{g.msg(ann, "smaller now, bea")}})
	return history, steps
}

// storyModel is v's session with the history of the story, given shared
// (nil: none).
func storyModel(v viewer, history []hub.Event, shared *Shared) *Model {
	m, _ := newModel(v.width, v.height, func(c *Config) {
		c.UserID, c.Name = v.user.id, v.user.name
		c.Renderer = v.renderer()
		c.Locale = v.locale
		c.Rooms[0].History = history
		c.Roster = lobbyRoster()
		c.Shared = shared
	})
	return m
}

// TestSharedShowsTheSame: screens given a Shared send their terminals
// exactly what screens that make everything for themselves send, whoever
// reads them, at any size, on any terminal: a mention highlighted for the
// one it names only, arrivals gathered into one line on each screen.
func TestSharedShowsTheSame(t *testing.T) {
	history, steps := story()
	shared := NewShared()
	var own, with []*Model
	for _, v := range viewers {
		own = append(own, storyModel(v, history, nil))
		with = append(with, storyModel(v, history, shared))
	}
	for s, step := range steps {
		for i, v := range viewers {
			send(own[i], step...)
			send(with[i], step...)
			if got, want := written(with[i]), written(own[i]); got != want {
				t.Fatalf("step %d, %s: with a Shared the screen wrote other bytes: %s", s, v.user.name, firstDiff(got, want))
			}
		}
	}
	// The mentions were highlighted, each for its reader.
	for i, v := range viewers {
		if v.renderer().ColorProfile() == asciiRenderer().ColorProfile() {
			continue
		}
		if !strings.Contains(written(with[i]), "\x1b[1;7m") {
			t.Errorf("%s: no mention highlighted", v.user.name)
		}
	}
}

// TestSharedEntriesAreShared: screens of one look hold one entry of an
// event and its lines; the screen it mentions holds its own.
func TestSharedEntriesAreShared(t *testing.T) {
	shared := NewShared()
	g := newEvents()
	var ms []*Model
	for _, u := range []testUser{ann, bob, carol} {
		ms = append(ms, storyModel(viewer{u, 120, 40, colorRenderer, Locale{}}, nil, shared))
	}
	ev := g.msg(dave, "hello carol")
	for _, m := range ms {
		send(m, EventsMsg{ev})
	}
	last := func(m *Model) *entry { return m.transcript.entries[len(m.transcript.entries)-1] }
	if last(ms[0]) != last(ms[1]) || last(ms[0]).shared == nil {
		t.Fatalf("ann and bob hold entries %p and %p, want one shared", last(ms[0]), last(ms[1]))
	}
	if last(ms[2]) == last(ms[0]) || last(ms[2]).shared != nil || len(last(ms[2]).marks) != 1 {
		t.Fatalf("carol, mentioned, holds %+v, want her own entry with her name marked", last(ms[2]))
	}
	a := ms[0].transcript.window()
	b := ms[1].transcript.window()
	if x, y := a[len(a)-1].text, b[len(b)-1].text; x != y || !strings.Contains(x, "hello carol") {
		t.Fatalf("the last lines are %q and %q, want one line of the message", x, y)
	}
	if unsafe.StringData(a[len(a)-1].text) != unsafe.StringData(b[len(b)-1].text) {
		t.Error("ann and bob each laid the message out")
	}
}

// TestSharedOtherEventSameID: an event with the ID of another (another
// data directory, a test) gets its own entry, not the other's.
func TestSharedOtherEventSameID(t *testing.T) {
	shared := NewShared()
	a := storyModel(viewer{ann, 80, 24, asciiRenderer, Locale{}}, nil, shared)
	b := storyModel(viewer{bob, 80, 24, asciiRenderer, Locale{}}, nil, shared)
	ev := newEvents().msg(carol, "first")
	send(a, EventsMsg{ev})
	ev.Message = "second"
	send(b, EventsMsg{ev})
	if !strings.Contains(shows(b), "carol: second") || strings.Contains(shows(b), "first") {
		t.Fatalf("bob's screen:\n%s", shows(b))
	}
}

// TestSharedForgets: a Shared keeps a bounded number of entries; the
// screens keep theirs.
func TestSharedForgets(t *testing.T) {
	shared := NewShared()
	m := storyModel(viewer{ann, 80, 24, asciiRenderer, Locale{}}, nil, shared)
	g := newEvents()
	for range 3 * sharedEntries / 100 {
		batch := make(EventsMsg, 100)
		for i := range batch {
			batch[i] = g.msg(bob, "x")
		}
		send(m, batch)
	}
	n := 0
	for i := range shared.shards {
		n += len(shared.shards[i].index)
		if len(shared.shards[i].index) != len(shared.shards[i].slots) {
			t.Fatalf("shard %d: %d indexed, %d slots", i, len(shared.shards[i].index), len(shared.shards[i].slots))
		}
	}
	if n > sharedEntries {
		t.Errorf("the Shared holds %d entries, more than %d", n, sharedEntries)
	}
	if !strings.Contains(shows(m), "Bob: x") {
		t.Errorf("screen:\n%s", shows(m))
	}
}

// TestSharedConcurrent: screens on goroutines of their own take the same
// events at once (run with -race); each shows what it would alone.
func TestSharedConcurrent(t *testing.T) {
	history, steps := story()
	shared := NewShared()
	var wg sync.WaitGroup
	got := make([]string, len(viewers)*3)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := storyModel(viewers[i%len(viewers)], history, shared)
			for _, step := range steps {
				send(m, step...)
			}
			got[i] = written(m)
		}()
	}
	wg.Wait()
	for i, v := range viewers {
		m := storyModel(v, history, nil)
		for _, step := range steps {
			send(m, step...)
		}
		want := written(m)
		for j := i; j < len(got); j += len(viewers) {
			if got[j] != want {
				t.Errorf("%s, screen %d: wrote other bytes than alone: %s", v.user.name, j, firstDiff(got[j], want))
			}
		}
	}
}

// firstDiff shows where got and want part.
func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(i-80, 0)
	return fmt.Sprintf("from byte %d: got ...%q, want ...%q", i, got[from:min(i+80, len(got))], want[from:min(i+80, len(want))])
}

// TestSharedMemberList: screens of one look and size show a room's members
// with the same rows, made again when someone comes or goes.
func TestSharedMemberList(t *testing.T) {
	shared := NewShared()
	roster := online(ann, bob)
	screen := func(u testUser, s *Shared) *Model {
		m, _ := newModel(120, 40, func(c *Config) {
			c.UserID, c.Name = u.id, u.name
			c.Renderer = colorRenderer()
			c.Roster = roster
			c.Shared = s
		})
		return m
	}
	a, b, alone := screen(ann, shared), screen(bob, shared), screen(ann, nil)
	same := func() bool {
		ra, rb := a.members.lines(), b.members.lines()
		return len(ra) > 0 && len(ra) == len(rb) && unsafe.StringData(ra[0]) == unsafe.StringData(rb[0])
	}
	if !same() {
		t.Fatal("ann's and bob's screens made a member list each")
	}
	roster.members = online(ann, bob, carol).members
	came := newEvents().join(carol)
	for _, m := range []*Model{a, b, alone} {
		send(m, EventsMsg{came})
	}
	if !same() || !strings.Contains(shows(a), "╎ carol") {
		t.Fatalf("after carol came, ann's screen shows\n%s", shows(a))
	}
	if got, want := written(a), written(alone); got != want {
		t.Fatalf("with a Shared the screen wrote other bytes: %s", firstDiff(got, want))
	}
}
