package ui

import (
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"pgregory.net/rapid"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/sanitize"
)

func wrapped(text string, first, rest int) []string {
	var out []string
	for _, s := range wrap(measure{}, nil, text, first, rest) {
		out = append(out, text[s.start:s.end])
	}
	return out
}

// TestWrapGraphemes: a terminal that draws clusters whole (mode 2027)
// has a family of emoji take two cells.
func TestWrapGraphemes(t *testing.T) {
	var got []string
	text := "👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧"
	for _, s := range wrap(measure{graphemes: true}, nil, text, 4, 4) {
		got = append(got, text[s.start:s.end])
	}
	if want := []string{"👨‍👩‍👧👨‍👩‍👧", "👨‍👩‍👧"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name        string
		text        string
		first, rest int
		want        []string
	}{
		{"fits", "hello world", 20, 20, []string{"hello world"}},
		{"empty", "", 10, 10, []string{""}},
		{"at a space", "hello world", 8, 8, []string{"hello", "world"}},
		{"exact", "hello world", 11, 11, []string{"hello world"}},
		{"space at the limit", "hello world", 5, 5, []string{"hello", "world"}},
		{"spaces dropped at breaks", "aaa     bbb", 4, 4, []string{"aaa", "bbb"}},
		{"leading space kept", "  indented", 20, 20, []string{"  indented"}},
		{"long word", "abcdefghij", 4, 4, []string{"abcd", "efgh", "ij"}},
		{"word after text", "ab cdefghijkl", 5, 5, []string{"ab", "cdefg", "hijkl"}},
		{"narrower rest", "one two three four", 9, 5, []string{"one two", "three", "four"}},
		{"newlines", "a\n\nb", 10, 10, []string{"a", "", "b"}},
		{"cjk", "漢字漢字漢字", 5, 5, []string{"漢字", "漢字", "漢字"}},
		// Four cells each, as a terminal that draws code points shows them.
		{"emoji zwj", "👩‍💻👩‍💻👩‍💻", 4, 4, []string{"👩‍💻", "👩‍💻", "👩‍💻"}},
		{"emoji presentation", "☺️☺️☺️", 4, 4, []string{"☺️☺️", "☺️"}},
		{"combining", "e\u0301e\u0301e\u0301", 2, 2, []string{"e\u0301e\u0301", "e\u0301"}},
		{"flags", "🇫🇷🇩🇪", 3, 3, []string{"🇫🇷", "🇩🇪"}},
		// A stray mark is a cluster of no width: it stays with what follows.
		{"mark before a wide cluster", "\u0300👩\u200d💻a", 2, 2, []string{"\u0300👩\u200d💻", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wrapped(tt.text, tt.first, tt.rest); !slices.Equal(got, tt.want) {
				t.Errorf("wrap(%q, %d, %d) = %q, want %q", tt.text, tt.first, tt.rest, got, tt.want)
			}
		})
	}
}

// visibleClusters counts the clusters of s that take cells.
func visibleClusters(ms measure, s string) int {
	n := 0
	for i := 0; i < len(s); {
		size, w := ms.cluster(s, i)
		if w > 0 {
			n++
		}
		i += size
	}
	return n
}

// unicodeText draws text that is hard to measure: wide, combining,
// joined, invisible, hostile, and any rune at all.
func unicodeText() *rapid.Generator[string] {
	pieces := []string{
		" ", " ", " ", "a", "word", "漢", "字", "👩‍💻", "❤️‍🔥", "🇫🇷", "1️⃣", "👋🏽",
		"e\u0301", "\u0301", "\u200d", "\ufe0f", "\u200b", "\u202e", "\t", "\n",
		"\x1b[2J", "\x1b]0;t\x07", "\xff", "ｆｕｌｌ", "ﷺ", "𒐫", "\u0e01\u0e33", "한국어",
	}
	piece := rapid.OneOf(
		rapid.SampledFrom(pieces),
		rapid.StringN(1, 3, -1),
		rapid.Map(rapid.Rune(), func(r rune) string { return string(r) }),
	)
	return rapid.Map(rapid.SliceOfN(piece, 0, 60), func(ps []string) string {
		return strings.Join(ps, "")
	})
}

func TestWrapProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		text := sanitize.Text(unicodeText().Draw(t, "text"))
		first := rapid.IntRange(2, 80).Draw(t, "first")
		rest := rapid.IntRange(2, 80).Draw(t, "rest")
		segs := wrap(measure{}, nil, text, first, rest)
		var kept strings.Builder
		for i, s := range segs {
			limit := rest
			if i == 0 {
				limit = first
			}
			line := text[s.start:s.end]
			w := measure{}.width(line)
			if g := ansi.StringWidth(line); g > w {
				t.Fatalf("line %d %q: %d cells wide as a grapheme terminal draws it, measured %d", i, line, g, w)
			}
			// A cluster wider than the limit has a line of its own,
			// with at most clusters of no width (a stray mark) beside it.
			single := visibleClusters(measure{}, line) == 1
			if (w > limit && !single) || w != s.width {
				t.Fatalf("line %d %q: width %d, counted %d, limit %d", i, line, w, s.width, limit)
			}
			kept.WriteString(line)
		}
		// Only spaces and newlines are lost.
		strip := func(s string) string {
			return strings.NewReplacer(" ", "", "\n", "").Replace(s)
		}
		if strip(kept.String()) != strip(text) {
			t.Fatalf("wrapping lost text: %q became %q", text, kept.String())
		}
	})
}

// TestViewFitsProperty: whatever the size and the text, no line of the
// screen is wider than the terminal and there are exactly as many lines,
// for every kind of line, mentions of the reader and bells included.
func TestViewFitsProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		width := rapid.IntRange(20, 200).Draw(t, "width")
		height := rapid.IntRange(6, 60).Draw(t, "height")
		color := rapid.Bool().Draw(t, "color")
		own := unicodeText().Draw(t, "own name")
		m, _ := newModel(width, height, withServer(&runner{replies: map[string]string{
			"who": rapid.StringN(0, 200, -1).Draw(t, "who reply"),
		}}), func(c *Config) {
			c.Name = own
			c.Rooms[0].ID = unicodeText().Draw(t, "room")
			for range rapid.IntRange(0, 12).Draw(t, "more rooms") {
				c.Rooms = append(c.Rooms, RoomView{ID: unicodeText().Draw(t, "room"), Topic: unicodeText().Draw(t, "topic")})
			}
			if color {
				c.Renderer = colorRenderer()
			}
		})

		g := newEvents()
		users := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) testUser {
			return testUser{rapid.StringN(1, 10, -1).Draw(t, "id"), unicodeText().Draw(t, "name")}
		}), 1, 8).Draw(t, "users")
		users = append(users, testUser{ann.id, own}) // the reader, whose messages do not ring
		types := []string{hub.EventTypeMessage, hub.EventTypeMessage, hub.EventTypeMessage,
			hub.EventTypeJoin, hub.EventTypeAdd, hub.EventTypeRemove, hub.EventTypeLeave, hub.EventTypeClose,
			hub.EventTypeAction, hub.EventTypeDirect, hub.EventTypeDirect, hub.EventTypeNick,
			hub.EventTypeAway, hub.EventTypeBack, hub.EventTypeNotice, hub.EventTypeKick,
			hub.EventTypeBan, hub.EventTypeUnban, hub.EventTypeMute, hub.EventTypeMotd, "future",
			hub.EventTypeTopic, hub.EventTypeCreate, hub.EventTypeDrop, hub.EventTypeOp, hub.EventTypeMode}
		steps := rapid.IntRange(1, 12).Draw(t, "batches")
		for range steps {
			var batch EventsMsg
			for range rapid.IntRange(0, 10).Draw(t, "batch size") {
				u := rapid.SampledFrom(users).Draw(t, "user")
				ev := g.next(rapid.SampledFrom(types).Draw(t, "type"), u)
				ev.Message = unicodeText().Draw(t, "message")
				if rapid.Bool().Draw(t, "mention") {
					ev.Message += " " + m.name + rapid.SampledFrom([]string{"", "!", "x", "́", " "}).Draw(t, "after")
				}
				ev.Reason = rapid.SampledFrom([]string{"", "evicted", "\x1b[2Jx"}).Draw(t, "reason")
				to := rapid.SampledFrom(users).Draw(t, "to")
				ev.To, ev.ToName = to.id, to.name
				ev.OldName = unicodeText().Draw(t, "old name")
				if ev.Type == hub.EventTypeNick {
					ev.Name = unicodeText().Draw(t, "new name")
				}
				ev.Until = rapid.SampledFrom([]int64{0, ev.UnixTime + 60, ev.UnixTime + 86400*40}).Draw(t, "until")
				ev.ChatRoomID = rapid.SampledFrom(append(roomIDs(m), DirectRoom, "elsewhere")).Draw(t, "in room")
				batch = append(batch, ev)
			}
			if cmd := send(m, batch); cmd != nil && rapid.Bool().Draw(t, "bell ends") {
				send(m, bellDoneMsg{m.bells})
			}
			switch rapid.IntRange(0, 15).Draw(t, "action") {
			case 8:
				send(m, alt(rapid.RuneFrom([]rune("123456789")).Draw(t, "alt")))
			case 9:
				send(m, tea.KeyMsg{Type: rapid.SampledFrom([]tea.KeyType{tea.KeyCtrlN, tea.KeyCtrlP}).Draw(t, "cycle")})
			case 10:
				send(m, JoinedMsg{Room: RoomView{ID: unicodeText().Draw(t, "joined"), Topic: unicodeText().Draw(t, "topic")}})
			case 11:
				if ids := roomIDs(m); len(ids) > 0 {
					send(m, PartedMsg{Room: rapid.SampledFrom(ids).Draw(t, "parted"), Reason: unicodeText().Draw(t, "why")})
				}
			case 0:
				press(m, tea.KeyPgUp)
			case 1:
				press(m, tea.KeyPgDown)
			case 2:
				width = rapid.IntRange(20, 200).Draw(t, "new width")
				height = rapid.IntRange(6, 60).Draw(t, "new height")
				send(m, ResizeMsg{Width: width, Height: height})
			case 3:
				typeText(m, unicodeText().Draw(t, "typed"))
			case 4:
				send(m, tea.MouseMsg{Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
			case 5:
				enter(m, rapid.SampledFrom([]string{"/timestamp off", "/timestamp on", "/bell on", "/bell off",
					"/help", "/help bell", "/who", "/nope", "/reply hi"}).Draw(t, "command"))
			case 6:
				typeText(m, rapid.SampledFrom([]string{"/", "x ", "@"}).Draw(t, "before Tab"))
				for range rapid.IntRange(1, 3).Draw(t, "tabs") {
					press(m, tea.KeyTab)
				}
			case 7:
				for _, msg := range run(paste(m, unicodeText().Draw(t, "pasted"))) {
					if msg != nil {
						send(m, msg)
					}
				}
			}
			// Any text a user may send: how terminals draw the widths of
			// all of it is for the tests of widths, not this one.
			checkFrame(t, m, width, height)
		}
	})
}
