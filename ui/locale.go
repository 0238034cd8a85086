package ui

import "strings"

// glyphs are the characters of the chrome that are not letters: rules,
// borders, arrows. Each set holds none of East Asian Width A, whose width
// depends on how the terminal is configured.
type glyphs struct {
	rule     string // repeated across the line between the history and what is new
	border   string // left of the member list
	dot      string // between the parts of the header and the status line
	arrived  string // before an arrival or a rename
	left     string // before a departure
	to       string // from sender to recipient of a direct message, with its spaces
	times    string // before a count of sessions
	minus    string // before "1 session" that ended
	ellipsis string // marks text cut to fit, one cell
	down     string // "new messages below"
}

var (
	// unicodeGlyphs is the chrome of a UTF-8 terminal.
	unicodeGlyphs = glyphs{
		rule: "╌", border: "╎", dot: " ⋅ ", arrived: "⇢ ", left: "⇠ ", to: " ⇢ ",
		times: "x", minus: "-", ellipsis: "⋯", down: "⇣",
	}
	// asciiGlyphs is the chrome of a terminal whose charset is not UTF-8.
	asciiGlyphs = glyphs{
		rule: "-", border: "|", dot: " | ", arrived: "-> ", left: "<- ", to: " -> ",
		times: "x", minus: "-", ellipsis: "~", down: "v",
	}
	// plainGlyphs are those of the plain lines scripts read (PlainLine),
	// which stay as they have always been.
	plainGlyphs = glyphs{
		rule: "─", border: "│", dot: " · ", arrived: "→ ", left: "← ", to: " → ",
		times: "×", minus: "−", ellipsis: "…", down: "↓",
	}
)

// Locale is what a session's locale says of its terminal.
type Locale struct {
	// ASCII is set when the charset is not UTF-8: the chrome is ASCII and
	// every character of text that is not is shown as a '?'.
	ASCII bool
	// WideAmbiguous is set for a Chinese, Japanese or Korean locale, whose
	// terminals draw ambiguous-width characters two cells wide.
	WideAmbiguous bool
}

// LocaleFrom reads the locale from getenv as the C library does: LC_ALL,
// else LC_CTYPE, else LANG. No locale at all is taken for UTF-8, which
// is what terminals speak today and what clients that send no
// environment most likely use; "C" and "POSIX" are ASCII, and so is a
// name with a charset other than UTF-8, or with none (glibc's "en_US" is
// ISO 8859-1).
func LocaleFrom(getenv func(string) string) Locale {
	name := ""
	for _, key := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if name = getenv(key); name != "" {
			break
		}
	}
	if name == "" {
		return Locale{}
	}
	name, _, _ = strings.Cut(name, "@") // the modifier
	lang, charset, _ := strings.Cut(name, ".")
	charset = strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(charset))
	lang, _, _ = strings.Cut(lang, "_")
	switch strings.ToLower(lang) {
	case "c", "posix":
		return Locale{ASCII: charset != "utf8"}
	}
	l := Locale{ASCII: charset != "utf8"}
	switch strings.ToLower(lang) {
	case "ja", "zh", "ko":
		l.WideAmbiguous = true
	}
	return l
}
