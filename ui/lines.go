package ui

import (
	"io"
	"strings"
	"time"
)

// Lines draws the chat for a terminal that cannot place its cursor
// (TERM=dumb, or a TERM without a usable terminfo entry): one line per
// event, as it comes, and below them a prompt with what is being typed.
// It writes no escape sequence at all: only text, CR, LF, BS and BEL.
// When a line comes while something is typed, the prompt is wiped with
// spaces, the line written, and the prompt written again after it.
type Lines struct {
	w     io.Writer
	st    *styles // the model's, set when the model is made
	width int
	buf   []byte // what the next flush writes
	shown string // the prompt line as the terminal shows it; "" for none
}

// NewLines returns a line-mode output that writes to w. Give it to a
// model (Config.Lines); the program then runs without Bubble Tea's
// renderer.
func NewLines(w io.Writer) *Lines { return &Lines{w: w, width: 80} }

// println writes a line of text, which may hold line breaks, above the
// prompt.
func (l *Lines) println(text string) {
	l.erasePrompt()
	l.buf = append(l.buf, strings.ReplaceAll(text, "\n", "\r\n  ")...)
	l.buf = append(l.buf, '\r', '\n')
}

// bell rings the terminal's bell.
func (l *Lines) bell() { l.buf = append(l.buf, '\a') }

func (l *Lines) erasePrompt() {
	if l.shown == "" {
		return
	}
	l.buf = append(l.buf, '\r')
	l.buf = append(l.buf, spaces(l.st.width(l.shown))...)
	l.buf = append(l.buf, '\r')
	l.shown = ""
}

// prompt shows the prompt line s: its end, when it is wider than the line.
func (l *Lines) prompt(s string) {
	s = l.st.show(s)
	if l.st.width(s) > l.width-1 {
		rest := strings.TrimPrefix(s, prompt)
		for w := l.st.width(rest); rest != "" && len(prompt)+1+w > l.width-1; {
			n, cw := l.st.ms.cluster(rest, 0)
			rest, w = rest[n:], w-cw
		}
		s = prompt + "<" + rest
	}
	switch {
	case s == l.shown:
	case l.shown != "" && strings.HasPrefix(s, l.shown):
		l.buf = append(l.buf, s[len(l.shown):]...)
	case l.shown != "" && strings.HasPrefix(l.shown, s):
		n := l.st.width(l.shown[len(s):])
		for range n {
			l.buf = append(l.buf, '\b')
		}
		l.buf = append(l.buf, spaces(n)...)
		for range n {
			l.buf = append(l.buf, '\b')
		}
	default:
		l.erasePrompt()
		l.buf = append(l.buf, s...)
	}
	l.shown = s
}

// flush writes what the last update drew.
func (l *Lines) flush() {
	if len(l.buf) > 0 {
		_, _ = l.w.Write(l.buf)
		l.buf = l.buf[:0]
	}
}

// plain is the entry as one line of text, its time first when clock is
// set; a text of several lines goes on, indented, under its first.
func (e *entry) plain(st *styles, loc *time.Location, clock bool) string {
	var b strings.Builder
	if clock && e.timed() {
		b.WriteString(time.Unix(e.unix, 0).In(loc).Format("15:04"))
		b.WriteByte(' ')
	}
	switch e.kind {
	case kindSeparator:
		b.WriteString(strings.Repeat(st.g.rule, 20))
	case kindMessage:
		b.WriteString(e.name + ": " + e.text)
	case kindAction:
		b.WriteString("* " + e.name + " " + e.text)
	case kindDirect:
		b.WriteString("[dm] " + e.name + st.g.to + e.toName + ": " + e.text)
	default:
		if e.stale {
			e.text, e.stale = crowdText(e.crowd, e.name, e.others, st.g), false
		}
		b.WriteString(e.text)
	}
	return b.String()
}
