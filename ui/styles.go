package ui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// nameColors are readable on a dark background (the background is assumed
// dark: asking the terminal can block forever). The renderer downgrades
// them to the client's colour depth, or drops them for NO_COLOR.
var nameColors = [...]lipgloss.Color{
	"203", // salmon
	"209", // orange
	"221", // yellow
	"149", // lime
	"78",  // green
	"79",  // aquamarine
	"80",  // cyan
	"75",  // sky
	"111", // blue
	"141", // purple
	"177", // violet
	"211", // pink
}

// paint is a style reduced to what it writes before and after a piece of
// one-line text. It is computed once per session through the session's
// renderer; applying it is one concatenation, where lipgloss's Render
// costs a dozen allocations per call.
type paint struct{ pre, post string }

func newPaint(s lipgloss.Style) paint {
	const probe = "x" // escape sequences of colours and attributes hold no 'x'
	r := s.Render(probe)
	i := strings.Index(r, probe)
	return paint{r[:i], r[i+len(probe):]}
}

// render is s in the paint; nothing for nothing, which would only set a
// style and reset it.
func (p paint) render(s string) string {
	if s == "" || p.pre == "" && p.post == "" {
		return s
	}
	return p.pre + s + p.post
}

// palette is the paints of one colour profile. They come from a
// session's renderer (the global one has the server's colour profile),
// and are the same for every session of that profile: the screens of a
// Shared share them. Only plain colours are used: an adaptive colour would
// ask the terminal for its background. A palette is never changed once
// made.
type palette struct {
	header    paint
	status    paint
	time      paint
	system    paint // joins, leaves, notices
	subtle    paint // session counts, users away
	warning   paint // notices from the server
	errorLine paint
	direct    paint // the [dm] tag of a direct message
	mention   paint // the reader's name in a message
	separator paint
	border    paint // between the transcript and the member list
	newCount  paint
	current   paint // the room shown, in the room list
	names     [len(nameColors)]paint
}

func newPalette(r *lipgloss.Renderer) *palette {
	fg := func(c string) lipgloss.Style { return r.NewStyle().Foreground(lipgloss.Color(c)) }
	p := &palette{
		header:    newPaint(fg("252").Bold(true).Background(lipgloss.Color("236"))),
		status:    newPaint(fg("245")),
		time:      newPaint(fg("243")),
		system:    newPaint(fg("245")),
		subtle:    newPaint(fg("240")),
		warning:   newPaint(fg("221")),
		errorLine: newPaint(fg("203")),
		direct:    newPaint(fg("207").Bold(true)),
		mention:   newPaint(r.NewStyle().Bold(true).Reverse(true)),
		separator: newPaint(fg("238")),
		border:    newPaint(fg("238")),
		newCount:  newPaint(fg("221").Bold(true)),
		current:   newPaint(fg("252").Bold(true)),
	}
	for i, c := range nameColors {
		p.names[i] = newPaint(r.NewStyle().Bold(true).Foreground(c))
	}
	return p
}

// styles is how a session draws: the paints of its colour profile, and
// what its terminal's locale says.
type styles struct {
	*palette
	sideLead string // the border that starts every row of the side, styled

	ms    measure // how the terminal counts cells
	g     *glyphs // the chrome's characters
	ascii bool    // the terminal's charset is ASCII: see show
}

// newStyles makes the styles of a session of its own, from its renderer.
func newStyles(r *lipgloss.Renderer, loc Locale) styles { return stylesOf(newPalette(r), loc) }

func stylesOf(p *palette, loc Locale) styles {
	s := styles{
		palette: p,
		ms:      measure{wideAmbiguous: loc.WideAmbiguous},
		g:       &unicodeGlyphs,
		ascii:   loc.ASCII,
	}
	if loc.ASCII {
		s.g = &asciiGlyphs
	}
	s.sideLead = s.border.render(s.g.border)
	return s
}

// name is the colour of a user's name, stable across sessions and
// restarts because it derives from the key fingerprint.
func (s *styles) name(userID string) paint {
	// FNV-1a, inline so that it does not allocate.
	h := uint32(2166136261)
	for i := 0; i < len(userID); i++ {
		h ^= uint32(userID[i])
		h *= 16777619
	}
	return s.names[h%uint32(len(s.names))]
}

// width is the width of s, plain text, on the session's terminal.
func (s *styles) width(t string) int { return s.ms.width(t) }

// fit truncates t, plain text, to at most width cells, marking the cut.
func (s *styles) fit(t string, width int) string { return s.ms.fit(t, width, s.g.ellipsis) }

// show is text from a user as the session's terminal can show it: on a
// terminal that is not UTF-8, with a '?' for each character it lacks.
func (s *styles) show(t string) string {
	if s.ascii {
		return toASCII(t)
	}
	return t
}

// styledWidth is the width of t, text with escape sequences.
func (s *styles) styledWidth(t string) int { return s.ms.styledWidth(t) }
