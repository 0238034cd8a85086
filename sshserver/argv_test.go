package sshserver

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/anmitsu/go-shlex"
)

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		line    string
		want    []string
		wantErr error
	}{
		{"", nil, nil},
		{"   ", nil, nil},
		{"say hello world", []string{"say", "hello", "world"}, nil},
		{"say 'hello world'", []string{"say", "hello world"}, nil},
		{`say "a \"b\" \x"`, []string{"say", `a "b" \x`}, nil},
		{`say a\ b`, []string{"say", "a b"}, nil},
		{`say ''`, []string{"say"}, nil},
		{"history\t-n\n5", []string{"history", "-n", "5"}, nil},
		{`say it's`, nil, errNoClosingQuote},
		{`say \`, nil, errTrailingEscape},
	}
	for _, tt := range tests {
		got, err := splitCommand(tt.line)
		if err != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("splitCommand(%q) = %q, %v; want %q, %v", tt.line, got, err, tt.want, tt.wantErr)
		}
	}
}

// FuzzSplitCommand checks the parser against the shell-style parser the
// SSH library uses, on lines short enough for that one's quadratic cost.
func FuzzSplitCommand(f *testing.F) {
	for _, seed := range []string{"say hi", `say "a b" 'c d' e\ f`, `"\"\\\x"`, "a\u00a0b", "\xff\xfe x", `'`, `\`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 1024 {
			return
		}
		got, err := splitCommand(line)
		want, wantErr := shlex.Split(line, true)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("splitCommand(%q): error %v, the library's %v", line, err, wantErr)
		}
		if err == nil && !slices.Equal(got, want) {
			t.Fatalf("splitCommand(%q) = %q, the library's %q", line, got, want)
		}
		for _, w := range got {
			if w == "" || !utf8.ValidString(w) {
				t.Fatalf("splitCommand(%q): word %q", line, w)
			}
		}
	})
}

func BenchmarkSplitCommand(b *testing.B) {
	line := "say " + strings.Repeat("x", 8<<10)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := splitCommand(line); err != nil {
			b.Fatal(err)
		}
	}
}
