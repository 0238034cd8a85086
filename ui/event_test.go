package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sshchat/sshchat/hub"
)

// rendered is the entry of ev as an 80-column transcript shows it,
// without colour, in UTC; nil for an event it does not show.
func rendered(ev hub.Event) []string {
	e := entryFor(ev, time.UTC, &unicodeGlyphs)
	if e == nil {
		return nil
	}
	st := newStyles(asciiRenderer(), Locale{})
	var scratch []segment
	var out []string
	for _, l := range e.layout(&st, time.UTC, 80, true, &scratch) {
		out = append(out, l.text)
	}
	return out
}

func TestEventLines(t *testing.T) {
	g := newEvents() // the first event is at 22:14
	sameDay := int64(t0 + 1800)
	nextWeek := int64(t0 + 7*24*3600)
	unknown := g.msg(bob, "from the future")
	unknown.Type = "poll"
	silent := unknown
	silent.Message = ""
	tests := []struct {
		name string
		ev   hub.Event
		want []string
	}{
		{"message", g.msg(bob, "hello"), []string{"22:15 Bob: hello"}},
		{"multi-line message", g.msg(bob, "first\nsecond\n  indented"),
			[]string{"22:16 Bob: first", "           second", "             indented"}},
		{"action", g.action(bob, "waves"), []string{"22:17 * Bob waves"}},
		{"direct", g.direct(bob, ann, "psst"), []string{"22:18 [dm] Bob ⇢ ann: psst"}},
		{"direct sent", g.direct(ann, bob, "hi"), []string{"22:19 [dm] ann ⇢ Bob: hi"}},
		{"nick", g.nick(ann, "annie"), []string{"22:20 ⇢ ann is now known as annie"}},
		{"away", g.away(bob, "lunch"), []string{"22:21 Bob is away (lunch)"}},
		{"away without reason", g.away(bob, ""), []string{"22:22 Bob is away"}},
		{"back", g.back(bob), []string{"22:23 Bob is back"}},
		{"notice", g.notice("the name ann now comes with a different key"),
			[]string{"22:24 the name ann now comes with a different key"}},
		{"empty notice", g.notice(" "), nil},
		{"kick", g.moderate(hub.EventTypeKick, dave, 0, "spam"), []string{"22:26 dave was kicked by admin (spam)"}},
		{"ban until today", g.moderate(hub.EventTypeBan, dave, sameDay, "spam"),
			[]string{"22:27 dave was banned by admin until 22:43 (spam)"}},
		{"ban until another day", g.moderate(hub.EventTypeBan, dave, nextWeek, ""),
			[]string{"22:28 dave was banned by admin until 2023-11-21 22:13"}},
		{"ban for good", g.moderate(hub.EventTypeBan, dave, 0, "spam"), []string{"22:29 dave was banned by admin for good (spam)"}},
		{"unban", g.moderate(hub.EventTypeUnban, dave, 0, ""), []string{"22:30 dave was unbanned by admin"}},
		{"mute", g.moderate(hub.EventTypeMute, dave, t0+3600, ""), []string{"22:31 dave was muted by admin until 23:13"}},
		{"mute for good", g.moderate(hub.EventTypeMute, dave, 0, "flood"), []string{"22:32 dave was muted by admin for good (flood)"}},
		{"motd", g.motd("be kind"), []string{"22:33 message of the day: be kind"}},
		{"join", g.join(bob), []string{"22:34 ⇢ Bob joined"}},
		{"leave", g.leave(bob, "evicted"), []string{"22:35 ⇠ Bob left (evicted)"}},
		{"close", g.close(""), []string{"22:36 server is shutting down"}},
		{"unknown type", unknown, []string{"22:14 from the future"}},
		{"unknown type without a message", silent, nil},
		{"hostile", g.action(testUser{"SHA256:x", "\x1b[31mmallory"}, "\x1b]0;pwned\x07hides\u202e"),
			[]string{"22:37 * mallory hides"}},
		{"release", func() hub.Event {
			ev := g.moderate(hub.EventTypeRelease, dave, 0, "")
			ev.Message = "dav3"
			return ev
		}(), []string{"22:38 the name dav3 of dave was released by admin"}},
		{"topic", g.said(hub.EventTypeTopic, bob, "release \x1b[2Jday"), []string{"22:39 Bob set the topic: release day"}},
		{"topic cleared", g.said(hub.EventTypeTopic, bob, ""), []string{"22:40 Bob cleared the topic"}},
		{"create", in("go", g.said(hub.EventTypeCreate, bob, "")), []string{"22:41 Bob created #go"}},
		{"drop", func() hub.Event {
			ev := in("go", g.said(hub.EventTypeDrop, admin, ""))
			ev.Reason = "abandoned"
			return ev
		}(), []string{"22:42 admin dropped #go (abandoned)"}},
		{"op", g.moderate(hub.EventTypeOp, dave, 0, ""), []string{"22:43 dave was made an operator by admin"}},
		{"deop", g.moderate(hub.EventTypeDeop, dave, 0, ""), []string{"22:44 dave was removed as an operator by admin"}},
		{"mode +i", g.said(hub.EventTypeMode, bob, "+i"), []string{"22:45 Bob made the room invite-only"}},
		{"mode -i", g.said(hub.EventTypeMode, bob, "-i"), []string{"22:46 Bob opened the room to all"}},
		{"mode other", g.said(hub.EventTypeMode, bob, "+m"), []string{"22:47 Bob set the mode +m"}},
		{"invite", func() hub.Event {
			ev := g.said(hub.EventTypeInvite, bob, "")
			ev.To, ev.ToName = carol.id, carol.name
			return ev
		}(), []string{"22:48 Bob invited carol"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rendered(tt.ev); !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestModerationByTheServer(t *testing.T) {
	g := newEvents()
	ev := g.moderate(hub.EventTypeKick, dave, 0, "")
	ev.UserID, ev.Name = "", ""
	if got, want := rendered(ev), []string{"22:14 dave was kicked by the server"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPlainLine(t *testing.T) {
	g := newEvents()
	tests := []struct {
		ev   hub.Event
		want string
	}{
		{g.msg(bob, "two\nlines"), "22:14:20 Bob: two\n" + spaces(len("22:14:20 Bob: ")) + "lines"},
		{g.action(bob, "waves"), "22:15:20 * Bob waves"},
		{g.direct(bob, ann, "psst"), "22:16:20 [dm] Bob → ann: psst"},
		{g.nick(bob, "Bobby"), "22:17:20 → Bob is now known as Bobby"},
		{g.motd("be kind\nplease"), "22:18:20 message of the day: be kind\n" + spaces(len("22:18:20 ")) + "please"},
	}
	for _, tt := range tests {
		if got := PlainLine(tt.ev, time.UTC, "15:04:05"); got != tt.want {
			t.Errorf("PlainLine(%s) = %q, want %q", tt.ev.Type, got, tt.want)
		}
	}
}

func TestDirectMessageNamesAreCut(t *testing.T) {
	g := newEvents()
	long := testUser{"SHA256:long", strings.Repeat("L", 60)}
	st := newStyles(asciiRenderer(), Locale{})
	var scratch []segment
	for _, width := range []int{20, 30, 80} {
		for _, clock := range []bool{true, false} {
			e := entryFor(g.direct(long, testUser{"SHA256:other", strings.Repeat("O", 60)}, "text"), time.UTC, &unicodeGlyphs)
			for _, l := range e.layout(&st, time.UTC, width, clock, &scratch) {
				if w := st.styledWidth(l.text); w > width || w != l.width {
					t.Errorf("width %d: line %q is %d cells, counted %d", width, l.text, w, l.width)
				}
			}
		}
	}
}
