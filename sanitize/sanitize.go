package sanitize

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Text sanitizes multi-line text such as a message body: newlines are
// kept, everything the package documentation lists is removed.
func Text(s string) string { return clean(s, false) }

// Line sanitizes text shown on one line, such as a name or a reason: like
// Text, but line breaks become spaces.
func Line(s string) string { return clean(s, true) }

const (
	bel = 0x07
	esc = 0x1b
	can = 0x18
	sub = 0x1a
	del = 0x7f

	c1DCS = 0x90
	c1SOS = 0x98
	c1CSI = 0x9b
	c1OSC = 0x9d
	c1PM  = 0x9e
	c1APC = 0x9f
)

func clean(s string, line bool) string {
	dirty, joiners := scan(s, line)
	if dirty < 0 {
		if !joiners {
			return s
		}
		return dropStrayJoiners(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:dirty])
	if strip(&b, s[dirty:], line) {
		joiners = true
	}
	if !joiners {
		return b.String()
	}
	return dropStrayJoiners(b.String())
}

// scan returns the index of the first byte strip would change, or -1, and
// whether the bytes before it hold a joiner.
func scan(s string, line bool) (dirty int, joiners bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && (c != '\n' || line)) || c == del {
				return i, joiners
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r <= 0x9f, r == '\u2028', r == '\u2029', invisible(r):
			return i, joiners
		case joiner(r) != notJoiner:
			joiners = true
		}
		i += size
	}
	return -1, joiners
}

// strip writes s to b without controls, escape sequences, invalid bytes
// and invisible characters. It reports whether it wrote a joiner.
func strip(b *strings.Builder, s string, line bool) (joiners bool) {
	newline := byte('\n')
	if line {
		newline = ' '
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '\n':
				b.WriteByte(newline)
			case c == '\r':
				b.WriteByte(newline)
				if i < len(s) && s[i] == '\n' {
					i++
				}
			case c == '\t':
				b.WriteByte(' ')
			case c == esc:
				i = skipEscape(s, i)
			case c < 0x20 || c == del:
			default:
				b.WriteByte(c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
			for i++; i < len(s); i++ {
				if r, size := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || size != 1 {
					break
				}
			}
			continue
		}
		next := i + size
		switch {
		case r == c1CSI:
			next = skipCSI(s, next)
		case r == c1OSC:
			next = skipString(s, next, true)
		case r == c1DCS || r == c1SOS || r == c1PM || r == c1APC:
			next = skipString(s, next, false)
		case r <= 0x9f, invisible(r):
		case r == '\u2028' || r == '\u2029':
			b.WriteByte(newline)
		default:
			if joiner(r) != notJoiner {
				joiners = true
			}
			b.WriteString(s[i:next])
		}
		i = next
	}
	return joiners
}

// skipEscape returns the index just after the escape sequence whose ESC
// ends just before i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']':
		return skipString(s, i+1, true)
	case 'P', 'X', '^', '_':
		return skipString(s, i+1, false)
	}
	// ESC, intermediate bytes, one final byte (ESC c, ESC 7, ESC ( B ...).
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipCSI returns the index just after the control sequence whose
// introducer ends just before i. Like a terminal, it ignores C0 controls
// inside the sequence, aborts it on CAN or SUB and restarts on ESC; any
// other byte that cannot be part of it ends it and is kept as text.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c >= 0x40 && c <= 0x7e: // final byte
			return i + 1
		case c >= 0x20 && c <= 0x3f: // parameter and intermediate bytes
			i++
		case c == esc:
			return i
		case c == can || c == sub:
			return i + 1
		case c < 0x20 || c == del:
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just after the control string (OSC, DCS,
// SOS, PM, APC) whose introducer ends just before i: after its string
// terminator, BEL for an OSC, CAN or SUB; or before the ESC that starts
// another sequence; or at the end of s.
func skipString(s string, i int, osc bool) int {
	for i < len(s) {
		switch s[i] {
		case bel:
			if osc {
				return i + 1
			}
		case esc:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i
		case can, sub:
			return i + 1
		case 0xc2: // U+009C, the 8-bit string terminator, is C2 9C in UTF-8
			if i+1 < len(s) && s[i+1] == 0x9c {
				return i + 2
			}
		}
		i++
	}
	return i
}

// invisible reports whether r is a bidirectional control or an invisible
// character that is always removed.
func invisible(r rune) bool {
	if r < 0xad {
		return false
	}
	switch r {
	case 0x00ad, // soft hyphen: terminals disagree on its width
		0x061c,         // arabic letter mark
		0x180e,         // mongolian vowel separator
		0x200b,         // zero width space
		0x200e, 0x200f, // left-to-right and right-to-left marks
		0xfeff: // zero width no-break space (BOM)
		return true
	}
	return 0x202a <= r && r <= 0x202e || // embeddings and overrides
		0x2060 <= r && r <= 0x2064 || // word joiner, invisible operators
		0x2066 <= r && r <= 0x206f || // isolates, deprecated format characters
		0xfff9 <= r && r <= 0xfffb // interlinear annotation
}

type joinerKind uint8

const (
	notJoiner       joinerKind = iota
	zeroWidthJoiner            // ZWJ and ZWNJ
	selector                   // variation selectors
	tag                        // tag characters (emoji flag sequences)
)

func joiner(r rune) joinerKind {
	switch {
	case r < 0x200c:
		return notJoiner
	case r == 0x200c || r == 0x200d:
		return zeroWidthJoiner
	case 0xfe00 <= r && r <= 0xfe0f, 0xe0100 <= r && r <= 0xe01ef:
		return selector
	case 0xe0000 <= r && r <= 0xe007f:
		return tag
	}
	return notJoiner
}

// invisibleBase reports whether a grapheme cluster starting with r has
// nothing visible for a joiner or selector to act on.
func invisibleBase(r rune) bool {
	return unicode.IsSpace(r) || unicode.In(r, unicode.M, unicode.Cf) || joiner(r) != notJoiner
}

// dropStrayJoiners removes the joiners and selectors that join nothing:
// those in a grapheme cluster without a visible base, a joiner right after
// a joiner, a selector right after a joiner or a selector. s must be valid
// UTF-8. It returns s itself when nothing is removed.
//
// Only the stretch of text around each joiner is segmented into grapheme
// clusters. Before an ASCII character there is a cluster boundary that no
// rule looks back across, unless a prepended concatenation mark precedes
// it: segmentation starts at the last such boundary before the joiner and
// stops at the first one after it.
func dropStrayJoiners(s string) string {
	var b *strings.Builder
	done := 0 // s[:done] is in b
	from := 0 // s[:from] is decided
	for {
		j := nextJoiner(s, from)
		if j < 0 {
			break
		}
		pos := from
		for q := j - 1; q > from; q-- {
			if s[q] < utf8.RuneSelf {
				if r, _ := utf8.DecodeLastRuneInString(s[:q]); !maybePrepend(r) {
					pos = q
					break
				}
			}
		}
		state := -1
		for rest := s[pos:]; rest != ""; {
			var cluster string
			cluster, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
			base, _ := utf8.DecodeRuneInString(cluster)
			visible := !invisibleBase(base)
			prev := notJoiner
			for k, r := range cluster {
				kind := joiner(r)
				var drop bool
				switch kind {
				case zeroWidthJoiner:
					drop = !visible || prev == zeroWidthJoiner
				case selector:
					drop = !visible || prev == zeroWidthJoiner || prev == selector
				case tag:
					drop = !visible
				}
				if !drop {
					prev = kind
					continue
				}
				if b == nil {
					b = new(strings.Builder)
					b.Grow(len(s))
				}
				b.WriteString(s[done : pos+k])
				done = pos + k + utf8.RuneLen(r)
			}
			pos += len(cluster)
			if pos > j && (rest == "" || rest[0] < utf8.RuneSelf) {
				break
			}
		}
		from = pos
	}
	if b == nil {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// maybePrepend reports whether r may have the grapheme break property
// Prepend, which joins it to the character after it. The ranges are wide
// on purpose: a wrong yes only costs a longer segmentation.
func maybePrepend(r rune) bool {
	return (0x0600 <= r && r <= 0x08ff) || (0x0d00 <= r && r <= 0x0dff) || (0x11000 <= r && r <= 0x11fff)
}

// nextJoiner returns the index of the first joiner or selector in s at or
// after from, or -1.
func nextJoiner(s string, from int) int {
	for i := from; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if joiner(r) != notJoiner {
			return i
		}
		i += size
	}
	return -1
}

// Name is how a user is shown: its sanitized name, or the start of its key
// fingerprint when it has none (e.g. an event from before names).
func Name(userID, name string) string {
	if n := strings.TrimSpace(Line(name)); n != "" {
		return n
	}
	id := strings.TrimSpace(Line(strings.TrimPrefix(userID, "SHA256:")))
	if id == "" {
		return "?"
	}
	if r := []rune(id); len(r) > 8 {
		return string(r[:8])
	}
	return id
}
