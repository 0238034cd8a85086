package ui

import (
	"strings"
	"time"
)

// maxEntries bounds the transcript; older entries are forgotten. Every
// session keeps its own list of them, most of them shared (see Shared), so
// it is also what a session costs in a busy room.
const maxEntries = 400

type entryKind uint8

const (
	kindMessage   entryKind = iota // someone said something
	kindAction                     // someone did something: "* ann waves"
	kindDirect                     // a direct message, from or to the reader
	kindEvent                      // a join, leave, rename, moderation ..., with its time
	kindSubtle                     // another session of someone present
	kindWarning                    // a notice from the server to the room
	kindNotice                     // a line of this session only (help, command replies)
	kindError                      // a refused command or message
	kindSeparator                  // between the history and the live events
)

// line is one row of the screen, styled, and its width in cells.
type line struct {
	text  string
	width int
}

// span is text[start:end] of an entry.
type span struct{ start, end int }

// entry is one item of the transcript. Its text is sanitized when the
// entry is made; its lines are wrapped and styled once per width.
type entry struct {
	kind   entryKind
	unix   int64  // when it happened, for the kinds that show a time
	userID string // who said or did it
	name   string // sanitized
	toID   string // the recipient of a direct message
	toName string // sanitized
	text   string // sanitized
	marks  []span // where text names the reader, highlighted
	hang   int    // a notice's continuation indent, if it leaves 20 cells; 0 for the usual 2
	crowd  crowdKind
	others *others // who else arrived (or left) with name, in one line
	stale  bool    // text is to be made again from others

	width int // the width lines were made for; 0 when not made yet
	lines []line

	// shared is set for an entry made once for the screens of a Shared:
	// they all hold it, none may change it, and its lines are there.
	// Such an entry has no marks; one that gathers others is first made
	// the screen's own (see own).
	shared *layouts
}

// own returns a copy of a shared entry that is the screen's own.
func (e *entry) own() *entry {
	c := *e
	c.shared, c.lines, c.width = nil, nil, 0
	return &c
}

// said reports whether the entry is something a user said: it starts
// with their name, counts as a new message and may mention the reader.
func (e *entry) said() bool {
	return e.kind == kindMessage || e.kind == kindAction || e.kind == kindDirect
}

// timed reports whether the entry's lines start with its time.
func (e *entry) timed() bool {
	return e.said() || e.kind == kindEvent || e.kind == kindSubtle || e.kind == kindWarning
}

// layout makes the entry's lines for width, with the time of day when
// clock is set, unless they are up to date.
func (e *entry) layout(st *styles, loc *time.Location, width int, clock bool, scratch *[]segment) []line {
	if e.width == width && e.lines != nil {
		return e.lines
	}
	if e.stale {
		e.text, e.stale = crowdText(e.crowd, e.name, e.others, st.g), false
	}
	e.width = width
	e.lines = e.lay(st, loc, width, clock, scratch, e.lines[:0])
	return e.lines
}

// lay appends the entry's lines for width to dst. It changes nothing of
// the entry: a shared one is laid out by several screens at once.
func (e *entry) lay(st *styles, loc *time.Location, width int, clock bool, scratch *[]segment, dst []line) []line {
	if e.kind == kindSeparator {
		return append(dst, line{st.separator.render(strings.Repeat(st.g.rule, width)), width})
	}

	// Every line but separators starts with a prefix; continuation lines
	// are indented under the text that follows it.
	var prefix string // styled
	prefixWidth := 0
	if clock && e.timed() {
		var buf [8]byte
		at := time.Unix(e.unix, 0).In(loc).AppendFormat(buf[:0], "15:04")
		prefix = st.time.pre + string(at) + st.time.post + " "
		prefixWidth = len(at) + 1
	}
	var body paint // none: what users say keeps the terminal's colours
	switch e.kind {
	case kindMessage, kindAction, kindDirect:
		var w int
		prefix, w = e.head(st, prefix, width-prefixWidth)
		prefixWidth += w
	case kindSubtle:
		body = st.subtle
	case kindWarning:
		body = st.warning
	case kindError:
		body = st.errorLine
	default:
		body = st.system
	}
	indent := prefixWidth
	if indent > width/2 {
		indent = min(len("15:04 "), width/2)
	}
	if e.kind == kindNotice || e.kind == kindError {
		indent = 2
		if e.hang > 0 && width-e.hang >= 20 {
			indent = e.hang
		}
	}

	segs := wrap(st.ms, (*scratch)[:0], e.text, width-prefixWidth, width-indent)
	*scratch = segs
	plain := isASCII(e.text)
	for i, sg := range segs {
		text, w := e.text[sg.start:sg.end], sg.width
		limit := width - indent
		if i == 0 {
			limit = width - prefixWidth
		}
		if !plain && w > limit {
			// A grapheme cluster wider than the whole line.
			text, w = st.ms.truncate(text, limit)
		}
		if text != "" {
			text = body.pre + e.highlight(st.mention, body, text, sg.start) + body.post
		}
		if i == 0 {
			dst = append(dst, line{prefix + text, prefixWidth + w})
		} else {
			dst = append(dst, line{spaces(indent) + text, indent + w})
		}
	}
	return dst
}

// head is the styled start of what a user said: at (the time, styled),
// then "ann: ", "* ann " or "[dm] ann → bob: "; and the width of what
// follows at. Names are cut so that a few cells of the room that is left
// after the time remain for the text. One concatenation: one allocation.
func (e *entry) head(st *styles, at string, room int) (string, int) {
	const text = 4 // cells kept for the text after the head
	n := st.name(e.userID)
	switch e.kind {
	case kindAction:
		name := st.fit(e.name, max(1, room-len("* ")-1-text))
		return at + "* " + n.pre + name + n.post + " ", 2 + st.width(name) + 1
	case kindDirect:
		const tag = "[dm]"
		arrow := st.g.to
		arrowWidth := st.width(arrow)
		both := room - len(tag) - 1 - arrowWidth - 2 - text
		to := st.name(e.toID)
		from := st.fit(e.name, max(1, both-min(st.width(e.toName), both/2)))
		toName := st.fit(e.toName, max(1, both-st.width(from)))
		d := st.direct
		return at + d.pre + tag + d.post + " " + n.pre + from + n.post + arrow + to.pre + toName + to.post + ": ",
			len(tag) + 1 + st.width(from) + arrowWidth + st.width(toName) + 2
	default:
		name := st.fit(e.name, max(1, room-2-text))
		return at + n.pre + name + n.post + ": ", st.width(name) + 2
	}
}

// highlight styles the marks that fall in text, the piece of e.text that
// starts at off; body is the style to go back to after each.
func (e *entry) highlight(hl, body paint, text string, off int) string {
	if len(e.marks) == 0 || hl.pre == "" {
		return text
	}
	var b strings.Builder
	end, last := off+len(text), off
	for _, m := range e.marks {
		from, to := max(m.start, last), min(m.end, end)
		if from >= to {
			continue
		}
		b.WriteString(text[last-off : from-off])
		b.WriteString(hl.pre)
		b.WriteString(text[from-off : to-off])
		b.WriteString(hl.post)
		b.WriteString(body.pre)
		last = to
	}
	b.WriteString(text[last-off:])
	return b.String()
}

// transcript is the scrollback: entries, oldest first, and a window on
// them. The window is anchored at its bottom line, so that new entries
// do not move what a reader who scrolled up is looking at.
type transcript struct {
	st            *styles
	loc           *time.Location
	width, height int

	clock bool // lines start with the time of day

	entries  []*entry
	firstSeq int // sequence number of entries[0]; numbers never repeat

	follow bool // the window shows the newest line
	anchor int  // when not following: sequence number of the entry at the bottom
	below  int  // and how many of its lines are hidden below the window
	mark   int  // the last sequence number when the reader scrolled up

	// Entries keep their lines while they are near the window; laidFrom
	// is the lowest sequence number that may still hold some.
	laidFrom int

	rows    []line // the visible window, reused from frame to frame
	scratch []segment
	// near holds the lines of the shared entries in and around the
	// window, by sequence number (seq mod its length, a power of two
	// above the height): reading them from the entry takes longer.
	near []laid

	out *Lines // a line-mode chat writes each entry as it is added
	tag string // and starts it with this, "#go", when its room is not the one shown
}

// laid is the lines of the entry at seq.
type laid struct {
	seq   int
	lines []line
}

func newTranscript(st *styles, loc *time.Location) transcript {
	return transcript{st: st, loc: loc, clock: true, follow: true}
}

// setClock shows or hides the time of day: every entry is laid out
// again, lazily.
func (t *transcript) setClock(on bool) {
	if on == t.clock {
		return
	}
	t.clock = on
	t.relayout()
}

// relayout lays every entry out again, lazily: after a change of how
// lines look or are measured.
func (t *transcript) relayout() {
	for _, e := range t.entries {
		if e.shared == nil {
			e.lines, e.width = nil, 0
		}
	}
	clear(t.near)
	if !t.follow {
		t.clampAnchor()
	}
}

// SetSize sets the window's size. Entries are wrapped again lazily, when
// they come into view.
func (t *transcript) SetSize(width, height int) {
	if width != t.width {
		clear(t.near)
	}
	t.width, t.height = width, height
	if !t.follow {
		t.clampAnchor()
	}
}

func (t *transcript) lastSeq() int { return t.firstSeq + len(t.entries) - 1 }

func (t *transcript) at(seq int) *entry { return t.entries[seq-t.firstSeq] }

func (t *transcript) lines(seq int) []line {
	e := t.at(seq)
	if e.shared != nil {
		return t.sharedLines(seq, e)
	}
	t.laidFrom = min(t.laidFrom, seq)
	return e.layout(t.st, t.loc, t.width, t.clock, &t.scratch)
}

// sharedLines returns the lines of the shared entry e at seq: from near,
// from the entry, or laid out now and kept with the entry for the other
// screens of this look.
func (t *transcript) sharedLines(seq int, e *entry) []line {
	if n := nearSize(t.height); len(t.near) < n {
		t.near = make([]laid, n)
	}
	n := &t.near[seq&(len(t.near)-1)]
	if n.seq == seq && n.lines != nil {
		return n.lines
	}
	k := look{pal: t.st.palette, loc: t.loc, width: t.width, ms: t.st.ms, ascii: t.st.ascii, clock: t.clock}
	ls := e.shared.get(k)
	if ls == nil {
		ls = e.lay(t.st, t.loc, t.width, t.clock, &t.scratch, nil)
		e.shared.add(k, ls)
	}
	*n = laid{seq, ls}
	return ls
}

// nearSize is the length of near for a window of height rows: a power of
// two, larger than the entries a window can show.
func nearSize(height int) int {
	n := 16
	for n <= height {
		n *= 2
	}
	return n
}

// release drops the lines of the entries more than a window above the
// one at seq: memory stays proportional to the screen, not to the
// history. Scrolling back up lays them out again.
func (t *transcript) release(seq int) {
	keep := seq - max(t.height, 1)
	for s := max(t.laidFrom, t.firstSeq); s < keep; s++ {
		if e := t.at(s); e.shared == nil {
			e.lines, e.width = nil, 0
		}
	}
	t.laidFrom = max(t.laidFrom, keep)
}

// add appends an entry, forgetting the oldest beyond maxEntries.
func (t *transcript) add(e *entry) {
	if t.st.ascii && e.shared == nil { // a shared entry was made for the charset
		e.text, e.name, e.toName = toASCII(e.text), toASCII(e.name), toASCII(e.toName)
	}
	if t.out != nil {
		text := e.plain(t.st, t.loc, t.clock)
		if t.tag != "" {
			text = "[" + t.st.show(t.tag) + "] " + text
		}
		t.out.println(text)
	}
	t.entries = append(t.entries, e)
	// Drop a quarter at a time so that adding stays O(1) amortized.
	if len(t.entries) > maxEntries+maxEntries/4 {
		drop := len(t.entries) - maxEntries
		n := copy(t.entries, t.entries[drop:])
		clear(t.entries[n:])
		t.entries = t.entries[:n]
		t.firstSeq += drop
		if !t.follow && t.anchor < t.firstSeq {
			t.anchor, t.below = t.firstSeq, 0
			t.clampAnchor()
		}
	}
}

// park lets go of every line laid out and of the window's rows, keeping
// the entries and where the reader was: the room is no longer shown.
func (t *transcript) park() {
	for s := max(t.laidFrom, t.firstSeq); s <= t.lastSeq(); s++ {
		if e := t.at(s); e.shared == nil {
			e.lines, e.width = nil, 0
		}
	}
	t.laidFrom = t.lastSeq() + 1
	t.rows, t.scratch, t.near = nil, nil, nil
}

// scrolled reports whether the reader has scrolled up.
func (t *transcript) scrolled() bool { return !t.follow }

// newMessages counts the messages below the window that arrived after the
// reader scrolled up.
func (t *transcript) newMessages() int {
	if t.follow {
		return 0
	}
	n := 0
	for seq := t.lastSeq(); seq > t.anchor && seq > t.mark; seq-- {
		if t.at(seq).said() {
			n++
		}
	}
	return n
}

// scrollUp moves the window up n lines, no further than the first line.
func (t *transcript) scrollUp(n int) {
	if len(t.entries) == 0 || t.width <= 0 {
		return
	}
	if t.follow {
		t.follow = false
		t.anchor, t.below, t.mark = t.lastSeq(), 0, t.lastSeq()
	}
	for ; n > 0; n-- {
		if t.below+1 < len(t.lines(t.anchor)) {
			t.below++
		} else if t.anchor > t.firstSeq {
			t.anchor, t.below = t.anchor-1, 0
		} else {
			break
		}
	}
	t.clampAnchor()
}

// scrollDown moves the window down n lines; reaching the newest line
// follows again.
func (t *transcript) scrollDown(n int) {
	if t.follow {
		return
	}
	for ; n > 0; n-- {
		if t.below > 0 {
			t.below--
		} else if t.anchor < t.lastSeq() {
			t.anchor++
			t.below = len(t.lines(t.anchor)) - 1
		} else {
			break
		}
	}
	if t.anchor == t.lastSeq() && t.below == 0 {
		t.follow = true
	}
}

// toBottom follows the newest line again.
func (t *transcript) toBottom() { t.follow = true }

// clampAnchor keeps the window full: its top may not go above the first
// line. When everything fits, the window follows.
func (t *transcript) clampAnchor() {
	if t.anchor > t.lastSeq() {
		t.anchor, t.below = t.lastSeq(), 0
	}
	if t.anchor < t.firstSeq {
		t.anchor, t.below = t.firstSeq, 0
	}
	if ls := t.lines(t.anchor); t.below >= len(ls) {
		t.below = len(ls) - 1
	}
	above := len(t.lines(t.anchor)) - t.below
	for seq := t.anchor - 1; seq >= t.firstSeq && above < t.height; seq-- {
		above += len(t.lines(seq))
	}
	if above < t.height {
		t.scrollDown(t.height - above)
	}
}

// window returns the visible lines, top first; fewer than the height when
// the transcript is short (the window is filled from the bottom). Only the
// entries in view are laid out: the cost does not grow with the history.
func (t *transcript) window() []line {
	t.rows = t.rows[:0]
	if len(t.entries) == 0 || t.height <= 0 || t.width <= 0 {
		return t.rows
	}
	seq, below := t.lastSeq(), 0
	if !t.follow {
		seq, below = t.anchor, t.below
	}
	top := seq
	for ; seq >= t.firstSeq && len(t.rows) < t.height; seq, below = seq-1, 0 {
		ls := t.lines(seq)
		for i := len(ls) - 1 - below; i >= 0 && len(t.rows) < t.height; i-- {
			t.rows = append(t.rows, ls[i])
		}
		top = seq
	}
	t.release(top)
	for i, j := 0, len(t.rows)-1; i < j; i, j = i+1, j-1 {
		t.rows[i], t.rows[j] = t.rows[j], t.rows[i]
	}
	return t.rows
}
