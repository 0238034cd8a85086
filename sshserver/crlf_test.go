package sshserver

import (
	"bytes"
	"testing"
)

// libraryCRLF is what the SSH library's PTY writer sends for p.
func libraryCRLF(p []byte) []byte {
	p = bytes.ReplaceAll(p, []byte{'\n'}, []byte{'\r', '\n'})
	return bytes.ReplaceAll(p, []byte{'\r', '\r', '\n'}, []byte{'\r', '\n'})
}

func TestCRLF(t *testing.T) {
	for in, want := range map[string]string{
		"":              "",
		"frame":         "frame",
		"a\nb":          "a\r\nb",
		"a\r\nb":        "a\r\nb",
		"\n\n":          "\r\n\r\n",
		"\r\r\n":        "\r\r\n",
		"\r\n\n\r":      "\r\n\r\n\r",
		"bye\r\n":       "bye\r\n",
		"\x1b[2J\x1b[H": "\x1b[2J\x1b[H",
	} {
		if got := string(crlf([]byte(in))); got != want {
			t.Errorf("crlf(%q) = %q, want %q", in, got, want)
		}
		if lib := string(libraryCRLF([]byte(in))); lib != want {
			t.Errorf("the library makes %q of %q, the test wants %q", lib, in, want)
		}
	}
}

// FuzzCRLF checks that the session's writer sends what the library's
// would, byte for byte.
func FuzzCRLF(f *testing.F) {
	for _, s := range []string{"", "a\nb", "\r\r\n", "\r\n\n", "\r\r\r\n\n\r"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if got, want := crlf(p), libraryCRLF(p); !bytes.Equal(got, want) {
			t.Fatalf("crlf(%q) = %q, the library sends %q", p, got, want)
		}
	})
}
