package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "hello, world", "hello, world"},
		{"newlines kept", "a\nb\n", "a\nb\n"},
		{"crlf", "a\r\nb", "a\nb"},
		{"lone cr", "a\rb", "a\nb"},
		{"tab", "a\tb", "a b"},
		{"c0", "a\x00b\x01c\x08d\x7fe", "abcde"},
		{"bell", "ding\x07", "ding"},
		{"osc title with bel", "\x1b]0;pwned\x07hello", "hello"},
		{"osc title with st", "\x1b]0;pwned\x1b\\hello", "hello"},
		{"osc 8-bit st", "\x1b]0;pwned\u009chello", "hello"},
		{"osc hyperlink", "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"osc 52 clipboard", "\x1b]52;c;cm0gLXJmIC8K\x07ok", "ok"},
		{"unterminated osc", "hi\x1b]0;never ends", "hi"},
		{"osc ended by esc", "\x1b]0;t\x1b[31mred", "red"},
		{"osc ended by can", "\x1b]0;t\x18x", "x"},
		{"csi clear", "hi\x1b[2J", "hi"},
		{"csi sgr", "\x1b[1;31mred\x1b[0m", "red"},
		{"csi private", "\x1b[?1049hx", "x"},
		{"csi with intermediate", "\x1b[0 qx", "x"},
		{"csi with c0 inside", "\x1b[1\n2Jx", "x"},
		{"csi cut by non-ascii", "\x1b[1é", "é"},
		{"unterminated csi", "x\x1b[12;", "x"},
		{"dcs", "\x1bPq#0;2;0;0;0\x1b\\after", "after"},
		{"sos pm apc", "\x1bXa\x1b\\\x1b^b\x1b\\\x1b_c\x1b\\d", "d"},
		{"unterminated apc", "a\x1b_Gf=100;AAAA", "a"},
		{"two-byte escapes", "\x1bcA\x1b7B\x1b8C\x1b=D", "ABCD"},
		{"charset escape", "\x1b(Bx", "x"},
		{"lone esc at end", "x\x1b", "x"},
		{"esc esc", "\x1b\x1b[31mx", "x"},
		{"8-bit csi", "\u009b2Jx", "x"},
		{"8-bit osc", "\u009d0;t\u0007x", "x"},
		{"8-bit dcs", "\u0090q\u009cx", "x"},
		{"other c1", "a\u0085b\u0084c", "abc"},
		{"invalid utf-8", "a\xffb", "a\ufffdb"},
		{"invalid run", "a\xff\xfe\xc3b", "a\ufffdb"},
		{"truncated rune", "caf\xc3", "caf\ufffd"},
		{"surrogate", "a\xed\xa0\x80b", "a\ufffdb"},
		{"literal replacement kept", "a\ufffdb", "a\ufffdb"},
		{"raw 8-bit csi byte is invalid", "a\x9b2Jb", "a\ufffd2Jb"},
		{"bidi override", "abc\u202Egnp.exe", "abcgnp.exe"},
		{"bidi isolates", "\u2066a\u2069\u2067b\u2068c", "abc"},
		{"marks", "\u200ea\u200fb\u061cc", "abc"},
		{"zero width", "a\u200bb\u2060c\ufeffd", "abcd"},
		{"soft hyphen", "co\u00adop", "coop"},
		{"line separators", "a\u2028b\u2029c", "a\nb\nc"},
		{"emoji zwj sequence", "👩‍💻", "👩‍💻"},
		{"family", "👨‍👩‍👧‍👦", "👨‍👩‍👧‍👦"},
		{"heart on fire", "❤️‍🔥", "❤️‍🔥"},
		{"keycap", "1️⃣", "1️⃣"},
		{"flag", "🇫🇷", "🇫🇷"},
		{"subdivision flag", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"},
		{"skin tone", "👋🏽", "👋🏽"},
		{"zwnj in persian", "می\u200cخواهم", "می\u200cخواهم"},
		{"combining", "e\u0301", "e\u0301"},
		{"cjk", "漢字かな", "漢字かな"},
		{"zwj at start", "\u200dhi", "hi"},
		{"zwj after space", "a \u200d\u200cb", "a b"},
		{"doubled zwj", "👩\u200d\u200d💻", "👩\u200d💻"},
		{"selector at start", "\ufe0fx", "x"},
		{"selector after joiner", "a\u200d\ufe0f", "a\u200d"},
		{"doubled selector", "☺\ufe0f\ufe0f", "☺\ufe0f"},
		{"zwj after newline", "a\n\u200db", "a\nb"},
		{"tag without base", "\U000e0067x", "x"},
		{"joiner revealed by strip", "a\x1b[m\u200d", "a\u200d"},
		{"stray joiner revealed by strip", " \x1b[m\u200dx", " x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "ann", "ann"},
		{"newline", "a\nb", "a b"},
		{"crlf is one space", "a\r\nb", "a b"},
		{"lone cr", "a\rb", "a b"},
		{"tab", "a\tb", "a b"},
		{"paragraph separator", "a\u2029b", "a b"},
		{"title", "\x1b]0;pwned\x07ann", "ann"},
		{"bidi", "\u202eann", "ann"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in); got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanInputIsNotCopied(t *testing.T) {
	for _, s := range []string{"", "hello", "a\nb", "漢字 👩‍💻 ❤️‍🔥 e\u0301 🇫🇷"} {
		var got string
		allocs := testing.AllocsPerRun(100, func() { got = Text(s) })
		if got != s || allocs != 0 {
			t.Errorf("Text(%q) = %q with %v allocs, want it unchanged with 0", s, got, allocs)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { Line("ann-3f2a") }); allocs != 0 {
		t.Errorf("Line of a clean name: %v allocs, want 0", allocs)
	}
}

// check fails t when out breaks one of the promises of the package.
func check(t *testing.T, fn string, in, out string, line bool) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("%s(%q) = %q: invalid UTF-8", fn, in, out)
	}
	for _, r := range out {
		bad := (r < 0x20 && (r != '\n' || line)) || r == 0x7f ||
			(r >= 0x80 && r <= 0x9f) || invisible(r) || r == '\u2028' || r == '\u2029'
		if bad {
			t.Fatalf("%s(%q) = %q: contains %U", fn, in, out, r)
		}
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{
		"hello", "\x1b]0;pwned\x07hello", "hi\x1b[2J", "👩‍💻", "a\u200d\u200db",
		"\u202Eevil", "\xff\xfe", "\u009b31m", "\x1bP\x1b\\", "e\u0301\ufe0f",
		" \u200d👩", "👩\u200d\u200d💻", "\r\n\t", "🏴\U000e0067\U000e007f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		text := Text(in)
		check(t, "Text", in, text, false)
		if again := Text(text); again != text {
			t.Fatalf("Text not idempotent on %q: %q then %q", in, text, again)
		}
		// The reference is slow; what it could catch shows on short input.
		if len(in) <= 256 {
			if ref := referenceDropStrayJoiners(text); ref != text {
				t.Fatalf("Text(%q) = %q, but segmenting all of it gives %q", in, text, ref)
			}
		}
		line := Line(in)
		check(t, "Line", in, line, true)
		if strings.Contains(line, "\n") {
			t.Fatalf("Line(%q) = %q contains a newline", in, line)
		}
		if again := Line(line); again != line {
			t.Fatalf("Line not idempotent on %q: %q then %q", in, line, again)
		}
	})
}

func BenchmarkText(b *testing.B) {
	inputs := []struct{ name, s string }{
		{"ascii", strings.Repeat("the quick brown fox jumps over the lazy dog ", 10)},
		{"unicode", strings.Repeat("漢字かな 👩‍💻 ❤️‍🔥 café ", 10)},
		{"hostile", strings.Repeat("\x1b]0;pwned\x07hi\x1b[2J\u202e\xff\u200d\u200dx ", 20)},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.s)))
			b.ReportAllocs()
			for b.Loop() {
				Text(in.s)
			}
		})
	}
}

// referenceDropStrayJoiners is dropStrayJoiners the slow and obvious way:
// the whole text segmented into grapheme clusters.
func referenceDropStrayJoiners(s string) string {
	var b strings.Builder
	state := -1
	for rest := s; rest != ""; {
		var cluster string
		cluster, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		base, _ := utf8.DecodeRuneInString(cluster)
		visible := !invisibleBase(base)
		prev := notJoiner
		for _, r := range cluster {
			kind := joiner(r)
			drop := (kind != notJoiner && !visible) ||
				(kind == zeroWidthJoiner && prev == zeroWidthJoiner) ||
				(kind == selector && (prev == zeroWidthJoiner || prev == selector))
			if !drop {
				b.WriteRune(r)
				prev = kind
			}
		}
	}
	return b.String()
}

func TestName(t *testing.T) {
	tests := []struct{ userID, name, want string }{
		{"SHA256:abcdefghijkl", "ann", "ann"},
		{"SHA256:abcdefghijkl", " \x1b[31m ", "abcdefgh"},
		{"SHA256:ééééééééé", "", "éééééééé"},
		{"SHA256:abc", "", "abc"},
		{"", "", "?"},
	}
	for _, tt := range tests {
		if got := Name(tt.userID, tt.name); got != tt.want {
			t.Errorf("Name(%q, %q) = %q, want %q", tt.userID, tt.name, got, tt.want)
		}
	}
}
