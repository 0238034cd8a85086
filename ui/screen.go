package ui

import (
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/charmbracelet/x/ansi"
)

// A chat screen changes in one way above all: a new message moves the
// transcript up by a line or two. Bubble Tea's standard renderer compares
// a frame with the one before row by row, so after such a move every row
// differs: it measures each one again and sends the whole screen. With a
// thousand screens drawing many times a second that is most of what the
// server does. Screen draws the model's frames instead (the program runs
// with tea.WithoutRenderer): it keeps the rows it drew, sees that the
// transcript moved, has the terminal scroll it (a scroll region and SU or
// SD, as line-based chats and curses do), and sends only the rows that
// are then still different. It measures nothing: the model knows the
// width of every row it lays out.

// row is one row of a frame: text from the first column, width cells wide,
// and, on a wide screen, a cell of the member list from column sideCol.
type row struct {
	text  string
	width int
	side  string
}

// frame is what the model shows, row by row, as a Screen draws it.
type frame struct {
	width, height int
	rows          []row
	sideCol       int // the column the side cells start at; 0 when there are none
	// sideLead is what every side cell starts with, one cell wide (the
	// border): a side cell drawn over one that starts with it too keeps
	// it, and is drawn from the column after.
	sideLead    string
	top, bottom int // rows[top:bottom] are the transcript, which may scroll as one
}

// Terminal modes a session's screen sets, as its caps allow, and resets
// when it closes: the alternate screen, no cursor (the input line draws
// its own), mouse reports of button presses and drags in SGR encoding
// (the wheel scrolls the transcript), and bracketed paste.
const (
	altScreenOn  = ansi.SetModeAltScreenSaveCursor
	altScreenOff = ansi.ResetModeAltScreenSaveCursor
	cursorOff    = ansi.ResetModeTextCursorEnable
	cursorOn     = ansi.SetModeTextCursorEnable
	mouseOn      = ansi.SetModeMouseButtonEvent + ansi.SetModeMouseExtSgr
	mouseOff     = ansi.ResetModeMouseExtSgr + ansi.ResetModeMouseButtonEvent
	pasteOn      = ansi.SetModeBracketedPaste
	pasteOff     = ansi.ResetModeBracketedPaste

	// A frame is one synchronized update: terminals that know mode 2026
	// show it whole, the others ignore the mode.
	syncBegin = ansi.SetModeSynchronizedOutput
	syncEnd   = ansi.ResetModeSynchronizedOutput

	// Whether the terminal draws grapheme clusters whole (mode 2027) is
	// asked, never waited for: the answer comes with the input, if ever
	// (see GraphemesMsg).
	askGraphemes = ansi.RequestModeUnicodeCore
	graphemesOn  = ansi.SetModeUnicodeCore
	graphemesOff = ansi.ResetModeUnicodeCore

	// Whether the terminal has left and right margins (mode 69, DECLRMM)
	// is asked the same way (see Screen.useMargins).
	askMargins = ansi.RequestModeLeftRightMargin
	marginsOn  = ansi.SetModeLeftRightMargin
	marginsOff = ansi.ResetModeLeftRightMargin

	clearAll = ansi.ResetStyle + ansi.EraseEntireScreen
)

// keepFrameBuffer is the largest output buffer that goes back to the
// pool; a bigger one (a full repaint of a large screen) is let go.
const keepFrameBuffer = 16 << 10

// Screen draws frames on a terminal, sending only what changed since the
// frame before. Its methods are called from the program's goroutine only.
type Screen struct {
	caps  Caps
	w     io.Writer
	bufs  *sync.Pool // of *[]byte: frames are built in one, then written
	drawn frame      // what the terminal shows; its rows are Screen's own
	fresh bool       // the next frame repaints everything
	bell  bool       // the next frame rings the terminal's bell

	graphemes bool // mode 2027 was set here, and is reset on Close
	margins   bool // the terminal has left and right margins: see scroll
}

// NewScreen returns a screen that writes to w, building each frame in a
// buffer from bufs (a pool of *[]byte, which many screens may share; nil
// for one of its own). Nothing is written before Start.
func NewScreen(w io.Writer, bufs *sync.Pool) *Screen {
	if bufs == nil {
		bufs = &sync.Pool{New: func() any { return new([]byte) }}
	}
	return &Screen{caps: FullCaps, w: w, bufs: bufs, fresh: true}
}

// SetCaps sets what the terminal can do (FullCaps unless set); call it
// before Start.
func (s *Screen) SetCaps(c Caps) { s.caps = c }

// Start sets the terminal up for the screen; the next frame is drawn whole.
func (s *Screen) Start() {
	s.fresh = true
	var b strings.Builder
	if s.caps.AltScreen {
		b.WriteString(altScreenOn)
	}
	b.WriteString(cursorOff)
	if s.caps.Mouse {
		b.WriteString(mouseOn)
	}
	if s.caps.Modern {
		b.WriteString(pasteOn)
		b.WriteString(askGraphemes)
		b.WriteString(askMargins)
	}
	_, _ = io.WriteString(s.w, b.String())
}

// Close gives the terminal back as it was: the normal screen, the cursor
// shown, no mouse reports, no bracketed paste. Without an alternate screen
// the chat stays where it is, and the cursor goes below it.
func (s *Screen) Close() {
	var b strings.Builder
	if s.graphemes {
		b.WriteString(graphemesOff)
	}
	if s.caps.Modern {
		b.WriteString(pasteOff)
	}
	if s.caps.Mouse {
		b.WriteString(mouseOff)
	}
	b.WriteString(cursorOn)
	if s.caps.AltScreen {
		b.WriteString(altScreenOff)
	} else {
		b.WriteString(ansi.ResetStyle)
		b.Write(cursorTo(nil, max(s.drawn.height-1, 0), 0))
		b.WriteString("\r\n")
	}
	_, _ = io.WriteString(s.w, b.String())
}

// useGraphemes has the terminal draw grapheme clusters whole (mode 2027),
// which it said it can, and repaints the screen.
func (s *Screen) useGraphemes() {
	if !s.graphemes {
		s.graphemes = true
		_, _ = io.WriteString(s.w, graphemesOn)
	}
	s.fresh = true
}

// useMargins follows the terminal's answer about mode 69: set (1), reset
// (2) or always set (3) means it has left and right margins (DECSLRM),
// and a scroll can then move the transcript without the member list
// beside it, which would otherwise be drawn again on every row.
func (s *Screen) useMargins(value int) {
	if value >= 1 && value <= 3 {
		s.margins = true
	}
}

// draw sends what differs between the frame drawn before and f.
func (s *Screen) draw(f *frame) {
	d := &s.drawn
	buf := s.bufs.Get().(*[]byte)
	b := (*buf)[:0]
	if s.caps.Modern {
		b = append(b, syncBegin...)
	}
	mark := len(b)
	if s.bell {
		s.bell = false
		b = append(b, '\a')
	}
	cleared := s.fresh || f.width != d.width || f.height != d.height || f.sideCol != d.sideCol ||
		f.top != d.top || f.bottom != d.bottom || len(f.rows) != len(d.rows)
	if cleared {
		s.fresh = false
		b = append(b, clearAll...)
		d.rows = d.rows[:0]
	} else if s.caps.Scroll {
		b = s.scroll(b, f)
	}
	for i, r := range f.rows {
		if cleared && r == (row{}) {
			continue // blank already
		}
		if i < len(d.rows) {
			old := d.rows[i]
			if old == r {
				continue
			}
			if old.text == r.text && old.width == r.width && r.side != "" {
				lead := f.sideLead
				if lead == "" || !strings.HasPrefix(old.side, lead) || !strings.HasPrefix(r.side, lead) {
					lead = ""
				}
				col := f.sideCol
				if lead != "" {
					col++
				}
				b = cursorTo(b, i, col)
				b = appendSide(b, r.side[len(lead):])
				continue
			}
			if s.margins && r.side != "" && old.side == r.side {
				b = drawText(b, i, r, f.sideCol)
				continue
			}
		}
		b = cursorTo(b, i, 0)
		// A row of ASCII is as wide as measured. Another may be drawn
		// narrower (widths are measured conservatively): its line is
		// erased before, and the member list placed by its column.
		exact := isASCII(r.text)
		if !exact && !cleared {
			b = append(b, eraseRight...)
		}
		b = append(b, r.text...)
		switch {
		case r.side != "":
			if exact && r.width < f.sideCol {
				b = append(b, eraseRight...)
			}
			if !exact || r.width < f.sideCol {
				b = columnTo(b, f.sideCol)
			}
			b = appendSide(b, r.side)
		case exact && r.width < f.width:
			b = append(b, eraseRight...)
		}
	}
	if len(b) > mark {
		if s.caps.Modern {
			b = append(b, syncEnd...)
		}
		_, _ = s.w.Write(b)
	}
	d.width, d.height, d.sideCol, d.top, d.bottom = f.width, f.height, f.sideCol, f.top, f.bottom
	d.rows = append(d.rows[:0], f.rows...)
	if cap(b) <= keepFrameBuffer {
		*buf = b[:0]
		s.bufs.Put(buf)
	}
}

// drawText draws the text of row y, whose side cell, from column side, is
// on the terminal already: the text is erased up to it (ECH) and not
// beyond, where the line would be (EL). A terminal with margins (VT420)
// has ECH.
func drawText(b []byte, y int, r row, side int) []byte {
	b = cursorTo(b, y, 0)
	exact := isASCII(r.text)
	if !exact {
		b = eraseChars(b, side) // it may be drawn narrower than measured
	}
	b = append(b, r.text...)
	if exact && r.width < side {
		b = eraseChars(b, side-r.width)
	}
	return b
}

// eraseChars erases n cells from the cursor on, which stays (ECH).
func eraseChars(b []byte, n int) []byte {
	b = append(b, "\x1b["...)
	b = appendNum(b, n)
	return append(b, 'X')
}

// scroll has the terminal move the transcript when f shows it moved up
// (new lines at the bottom) or down (scrolled back) since the frame drawn,
// and shifts the drawn rows to match, so that the rows compared next are
// what the terminal then shows.
//
// A scroll moves whole rows, and the member list beside the transcript
// with them: every one of its rows is drawn again after (most of the
// bytes of a new message in a busy room). A terminal with left and right
// margins scrolls the transcript's columns alone, and the member list
// stays where it is.
func (s *Screen) scroll(b []byte, f *frame) []byte {
	d := &s.drawn
	now, was := f.rows[f.top:f.bottom], d.rows[f.top:f.bottom]
	h := len(now)
	if h < 2 || sameText(now, was) {
		return b
	}
	right := 0 // the columns scrolled are those before it; 0: all
	if s.margins && f.sideCol > 0 && within(now, f.sideCol) && within(was, f.sideCol) {
		right = f.sideCol
	}
	if k := shift(now, was); k > 0 {
		b = scrollRegion(b, f.top, f.bottom, right, k, true)
		shiftRows(was, k, right > 0)
	} else if k := shift(was, now); k > 0 {
		b = scrollRegion(b, f.top, f.bottom, right, k, false)
		shiftRows(was, -k, right > 0)
	}
	return b
}

// within reports whether the text of every row ends by column col.
func within(rows []row, col int) bool {
	for _, r := range rows {
		if r.width > col {
			return false
		}
	}
	return true
}

// shiftRows moves the rows as a scroll by k moves them on the terminal:
// up for k > 0, down for k < 0, blank rows coming in. With textOnly (a
// scroll between margins) the side cells stay where they are.
func shiftRows(rows []row, k int, textOnly bool) {
	h := len(rows)
	move := func(dst, src int) {
		if textOnly {
			rows[dst].text, rows[dst].width = rows[src].text, rows[src].width
		} else {
			rows[dst] = rows[src]
		}
	}
	blank := func(i int) {
		if textOnly {
			rows[i].text, rows[i].width = "", 0
		} else {
			rows[i] = row{}
		}
	}
	if k > 0 {
		for i := 0; i < h-k; i++ {
			move(i, i+k)
		}
		for i := h - k; i < h; i++ {
			blank(i)
		}
		return
	}
	k = -k
	for i := h - 1; i >= k; i-- {
		move(i, i-k)
	}
	for i := range k {
		blank(i)
	}
}

// shift returns the smallest k > 0 for which the text of now[i] is that of
// was[i+k] for every row that stays in view, or 0 when there is none; only
// shifts that keep at least one row are worth a scroll.
func shift(now, was []row) int {
	h := len(now)
	last := was[h-1]
	for k := 1; k < h; k++ {
		if c := now[h-1-k]; c.text != last.text || c.width != last.width {
			continue
		}
		if sameText(now[:h-k], was[k:]) {
			return k
		}
	}
	return 0
}

func sameText(a, b []row) bool {
	for i := range a {
		if a[i].text != b[i].text || a[i].width != b[i].width {
			return false
		}
	}
	return true
}

// scrollRegion scrolls rows [top, bottom) by k: up (SU, new blank rows at
// the bottom) or down (SD); with right > 0, only the columns before right.
// The region (DECSTBM, and DECSLRM between DECLRMM on and off) is set for
// the scroll only; setting it moves the cursor, and every row drawn after
// places the cursor itself. DECLRMM is on for as long as the scroll, in
// the same write: while it is on, CSI s sets margins instead of saving
// the cursor, and a program run after the chat may send that. Blank rows
// take the current background: the style is reset first. The parameters
// are written out in full, where ansi.ScrollUp and
// ansi.SetTopBottomMargins leave the defaults out.
func scrollRegion(b []byte, top, bottom, right, k int, up bool) []byte {
	b = append(b, ansi.ResetStyle...)
	b = append(b, "\x1b["...)
	b = appendNum(b, top+1)
	b = append(b, ';')
	b = appendNum(b, bottom)
	b = append(b, 'r')
	if right > 0 {
		b = append(b, marginsOn...)
		b = append(b, "\x1b[1;"...)
		b = appendNum(b, right)
		b = append(b, 's')
	}
	b = cursorTo(b, top, 0)
	b = append(b, "\x1b["...)
	b = appendNum(b, k)
	if up {
		b = append(b, 'S')
	} else {
		b = append(b, 'T')
	}
	if right > 0 {
		// The whole width again, then the mode off: a terminal may keep
		// the margins when the mode goes.
		b = append(b, "\x1b[s"...)
		b = append(b, marginsOff...)
	}
	return append(b, "\x1b[r"...) // the whole screen again
}

// appendSide writes a side cell, which ends the screen line: its padding
// goes as one erase. (Trailing spaces are unstyled: a style ends with a
// reset, which is not a space.)
func appendSide(b []byte, side string) []byte {
	n := len(side)
	for n > 0 && side[n-1] == ' ' {
		n--
	}
	b = append(b, side[:n]...)
	if n < len(side) {
		b = append(b, eraseRight...)
	}
	return b
}

// cursorTo moves the cursor to row y, column x (both from 0). It and
// columnTo append to the frame rather than make a string, as
// ansi.CursorPosition does: they run for every changed row of a frame.
func cursorTo(b []byte, y, x int) []byte {
	b = append(b, "\x1b["...)
	b = appendNum(b, y+1)
	if x > 0 {
		b = append(b, ';')
		b = appendNum(b, x+1)
	}
	return append(b, 'H')
}

// columnTo moves the cursor to column x (from 0) of its row.
func columnTo(b []byte, x int) []byte {
	b = append(b, "\x1b["...)
	b = appendNum(b, x+1)
	return append(b, 'G')
}

// appendNum appends n in decimal: quicker than strconv for the numbers
// of rows and columns, which have at most three digits.
func appendNum(b []byte, n int) []byte {
	switch {
	case n >= 0 && n < 10:
		return append(b, byte('0'+n))
	case n >= 10 && n < 100:
		return append(b, byte('0'+n/10), byte('0'+n%10))
	case n >= 100 && n < 1000:
		return append(b, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10))
	}
	return strconv.AppendInt(b, int64(n), 10)
}
