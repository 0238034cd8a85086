package ui

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/mattn/go-runewidth"
)

// Terminals disagree on how wide text is. Most (xterm, VTE, GNU screen,
// older tmux) draw code point by code point, as wcwidth counts: a family
// emoji joined with ZWJs takes the cells of each of its people. Newer
// ones draw a grapheme cluster as one, and say so when asked about mode
// 2027. A row measured the one way and drawn the other overflows onto the
// next row and stays there. So a screen measures conservatively until
// its terminal says it draws clusters: each cluster counts the larger of
// its two widths, and a row so measured fits in either kind of terminal.
// Ambiguous-width characters (East Asian Width A) count two cells where
// the locale is Chinese, Japanese or Korean, as terminals configured for
// those draw them; the chrome uses none.

// measure is how a session counts cells.
type measure struct {
	graphemes     bool // the terminal draws a grapheme cluster as one (mode 2027)
	wideAmbiguous bool // ambiguous-width characters are two cells wide
}

// Conditions of runewidth, only read: per code point, as wcwidth counts.
var (
	narrowAmbiguous = &runewidth.Condition{}
	wideAmbiguous   = &runewidth.Condition{EastAsianWidth: true}
)

// cluster returns the length in bytes and the width in cells of the
// grapheme cluster at s[i:].
func (ms measure) cluster(s string, i int) (n, width int) {
	if s[i] < utf8.RuneSelf && (i+1 == len(s) || s[i+1] < utf8.RuneSelf) {
		return 1, 1 // sanitized ASCII is printable
	}
	g, w := ansi.FirstGraphemeCluster(s[i:], ansi.GraphemeWidth)
	if g[0] < utf8.RuneSelf {
		// ansi.StringWidth counts an ASCII byte on its own, then whatever
		// follows it: "1️⃣" is one cell there, two where drawn whole.
		w = max(w, ansi.StringWidth(g))
	}
	return len(g), ms.clusterWidth(g, w)
}

// clusterWidth is the width of the cluster g, whose grapheme width is w.
func (ms measure) clusterWidth(g string, w int) int {
	cond := narrowAmbiguous
	if ms.wideAmbiguous {
		cond = wideAmbiguous
	}
	if ms.graphemes {
		if r, size := utf8.DecodeRuneInString(g); ms.wideAmbiguous && size == len(g) {
			w = max(w, cond.RuneWidth(r))
		}
		return w
	}
	sum := 0
	for _, r := range g {
		sum += cond.RuneWidth(r)
	}
	return max(w, sum)
}

// width is the width of s, plain text, in cells.
func (ms measure) width(s string) int {
	if isASCII(s) {
		return len(s)
	}
	w := 0
	for i := 0; i < len(s); {
		n, cw := ms.cluster(s, i)
		w += cw
		i += n
	}
	return w
}

// styledWidth is the width of s, text with escape sequences, in cells.
func (ms measure) styledWidth(s string) int {
	if isASCII(s) && !strings.Contains(s, "\x1b") {
		return len(s)
	}
	return ms.width(ansi.Strip(s))
}

// truncate cuts s, plain text, to at most width cells, between clusters,
// and returns what is left and its width.
func (ms measure) truncate(s string, width int) (string, int) {
	w := 0
	for i := 0; i < len(s); {
		n, cw := ms.cluster(s, i)
		if w+cw > width {
			return s[:i], w
		}
		w += cw
		i += n
	}
	return s, w
}

// fit truncates s, plain text, to at most width cells, marking the cut
// with tail (one cell wide).
func (ms measure) fit(s string, width int, tail string) string {
	if width <= 0 {
		return ""
	}
	if len(s) <= width && isASCII(s) {
		return s
	}
	if ms.width(s) <= width {
		return s
	}
	cut, _ := ms.truncate(s, width-1)
	return cut + tail
}

// isASCII reports whether s is plain ASCII, whose width is its length.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// toASCII replaces each grapheme cluster of s that is not ASCII with a
// '?', for a terminal whose charset is not UTF-8: it shows that something
// was there, where the raw bytes would show as several wrong characters.
func toASCII(s string) string {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf && (i+1 == len(s) || s[i+1] < utf8.RuneSelf) {
			b.WriteByte(s[i])
			i++
			continue
		}
		g, _ := ansi.FirstGraphemeCluster(s[i:], ansi.GraphemeWidth)
		switch {
		case len(g) == 0:
			g = s[i : i+1]
			b.WriteByte('?')
		case len(g) == 1: // ASCII, before a cluster of its own
			b.WriteByte(g[0])
		default:
			b.WriteByte('?')
		}
		i += len(g)
	}
	return b.String()
}
