package sshserver

import (
	"errors"
	"strings"
	"unicode"
)

// Errors of splitCommand, as a script sees them.
var (
	errNoClosingQuote = errors.New("the command has a quote that is not closed")
	errTrailingEscape = errors.New("the command ends in a backslash")
)

// splitCommand splits a command line into words as the SSH library's
// shell-style parser did (spaces separate words, quotes and backslashes
// escape them, empty words are dropped), in one pass: its cost grows with
// the line's length, not its square.
func splitCommand(line string) ([]string, error) {
	var (
		words   []string
		word    strings.Builder
		inWord  bool // word holds a word being read, possibly empty so far
		quote   rune // the quote being read in, or 0
		escaped bool
	)
	end := func() {
		if word.Len() > 0 {
			words = append(words, word.String())
		}
		word.Reset()
		inWord = false
	}
	for _, r := range line {
		switch {
		case escaped:
			// Inside double quotes, a backslash escapes only a quote or a backslash.
			if quote == '"' && r != '"' && r != '\\' {
				word.WriteRune('\\')
			}
			word.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == quote {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case quote == '"':
			switch r {
			case '"':
				quote = 0
			case '\\':
				escaped = true
			default:
				word.WriteRune(r)
			}
		case unicode.IsSpace(r):
			if inWord {
				end()
			}
		case r == '\\':
			escaped, inWord = true, true
		case r == '\'' || r == '"':
			quote, inWord = r, true
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	switch {
	case quote != 0:
		return nil, errNoClosingQuote
	case escaped:
		return nil, errTrailingEscape
	}
	end()
	return words, nil
}
