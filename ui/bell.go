package ui

import (
	"time"
	"unicode"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sshchat/sshchat/hub"
)

// How the bell rings.
//
// A terminal rings when it is sent BEL. The Screen sends it once, at the
// start of the next frame. Bells during a hold (bellHold) ring no second
// time: a burst of mentions rings once.

// bellMode is when the bell rings, set by /bell.
type bellMode uint8

const (
	bellMentions bellMode = iota // the default: mentions of the reader, direct messages to them
	bellOn                       // everything anyone else says
	bellOff
)

// bellHold is how long after a bell the next one stays silent.
const bellHold = 300 * time.Millisecond

// bellDoneMsg ends the hold of bell number n.
type bellDoneMsg struct{ n int }

func bellDoneCmd(n int) tea.Cmd {
	return tea.Tick(bellHold, func(time.Time) tea.Msg { return bellDoneMsg{n} })
}

// ring rings the bell with the next frame and holds it, unless one is
// held already.
func (m *Model) ring() tea.Cmd {
	if m.ringing {
		return nil
	}
	m.ringing = true
	m.bells++
	switch {
	case m.screen != nil:
		m.screen.bell = true // once, with the next frame
	case m.lines != nil:
		m.lines.bell()
	}
	return bellDoneCmd(m.bells)
}

func (m *Model) handleBellDone(msg bellDoneMsg) {
	if msg.n == m.bells {
		m.ringing = false
	}
}

// rings reports whether the entry made of ev rings the bell.
func (m *Model) rings(ev hub.Event, e *entry) bool {
	if !e.said() || ev.UserID == m.userID || m.bell == bellOff {
		return false
	}
	switch {
	case m.bell == bellOn:
		return true
	case e.kind == kindDirect:
		return ev.To == m.userID
	default:
		return len(e.marks) > 0
	}
}

// mentions returns where name occurs in text as a word of its own,
// ignoring case: not inside a longer word, nor inside a grapheme cluster.
func mentions(text, name string) []span {
	if name == "" {
		return nil
	}
	first, _ := utf8.DecodeRuneInString(name)
	var marks []span
	afterWord := false // the cluster before i belongs to a word
	for i := 0; i < len(text); {
		if c := text[i]; c < utf8.RuneSelf && (i+1 == len(text) || text[i+1] < utf8.RuneSelf) {
			// The common case, an ASCII character on its own.
			if afterWord || !sameFold(rune(c), first) {
				afterWord = wordByte(c)
				i++
				continue
			}
		}
		if !afterWord {
			if n := prefixFold(text[i:], name); n > 0 {
				end := i
				for end < i+n {
					c, _ := measure{}.cluster(text, end)
					end += c
				}
				if end == i+n && (end == len(text) || !wordStart(text[end:])) {
					marks = append(marks, span{i, end})
					i, afterWord = end, true
					continue
				}
			}
		}
		n, _ := measure{}.cluster(text, i)
		afterWord = wordStart(text[i:])
		i += n
	}
	return marks
}

// prefixFold returns the length of the prefix of s that equals prefix
// under simple case folding, or 0.
func prefixFold(s, prefix string) int {
	i := 0
	for _, p := range prefix {
		if i == len(s) {
			return 0
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !sameFold(r, p) {
			return 0
		}
		i += n
	}
	return i
}

func sameFold(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		return 'A' <= a && a <= 'Z' && a+'a'-'A' == b || 'A' <= b && b <= 'Z' && b+'a'-'A' == a
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// wordStart reports whether s starts with a letter, digit or underscore:
// a name followed by one is part of a longer word.
func wordStart(s string) bool {
	if s[0] < utf8.RuneSelf {
		return wordByte(s[0])
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func wordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'z'
}
