package ui

import (
	"strings"

	"github.com/xo/terminfo"
)

// Caps is what a session's terminal can do, as far as a Screen cares. They
// come from the terminfo entry of the terminal's TERM (see CapsFor).
type Caps struct {
	// Scroll: the terminal has a scroll region and scrolls it by n lines
	// (csr, indn and rin). Without it a Screen draws again the rows that
	// changed instead of scrolling them.
	Scroll bool
	// AltScreen: the terminal has an alternate screen (smcup), which the
	// chat uses and leaves as it found it.
	AltScreen bool
	// Mouse: the terminal reports the mouse (kmous), whose wheel scrolls.
	Mouse bool
	// Modern: an xterm-compatible terminal (its alternate screen is mode
	// 1049, or it names bracketed paste): it gets bracketed paste,
	// synchronized output (mode 2026) and the question about mode 2027.
	Modern bool
}

// FullCaps are the caps of an xterm: what a Screen uses unless told.
var FullCaps = Caps{Scroll: true, AltScreen: true, Mouse: true, Modern: true}

// maxTermName bounds the TERM looked up.
const maxTermName = 64

// CapsFor reads the capabilities of the terminal named term from the
// system's terminfo database. ok is false when the terminal cannot place
// the cursor or clear the screen (dumb), or has no entry at all, neither
// under its name nor under its family's (the part before the first '-':
// "xterm" for "xterm-ghostty"): such a terminal gets a line-mode chat.
func CapsFor(term string) (caps Caps, ok bool) {
	if !termName(term) {
		return Caps{}, false
	}
	ti, err := terminfo.Load(term)
	if err != nil {
		family, _, cut := strings.Cut(term, "-")
		if !cut {
			return Caps{}, false
		}
		if ti, err = terminfo.Load(family); err != nil {
			return Caps{}, false
		}
	}
	has := func(cap int) bool { return len(ti.Strings[cap]) > 0 }
	if !has(terminfo.CursorAddress) || !has(terminfo.ClearScreen) {
		return Caps{}, false
	}
	caps = Caps{
		Scroll:    has(terminfo.ChangeScrollRegion) && has(terminfo.ParmIndex) && has(terminfo.ParmRindex),
		AltScreen: has(terminfo.EnterCaMode) && has(terminfo.ExitCaMode),
		Mouse:     has(terminfo.KeyMouse),
	}
	caps.Modern = strings.Contains(string(ti.Strings[terminfo.EnterCaMode]), "?1049h") ||
		len(ti.ExtStringCapsShort()["BE"]) > 0
	return caps, true
}

// termName reports whether term is a name terminfo could have: it is
// looked up as a file name, so nothing that could leave the database.
func termName(term string) bool {
	if term == "" || len(term) > maxTermName || term[0] == '.' || term == "dumb" {
		return false
	}
	for i := 0; i < len(term); i++ {
		c := term[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.+", c) >= 0) {
			return false
		}
	}
	return true
}
