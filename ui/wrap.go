package ui

import "strings"

// segment is one wrapped line: text[start:end], width cells wide.
type segment struct{ start, end, width int }

// wrap appends to dst the lines of text, sanitized, wrapped to first cells
// for its first line and rest cells for the others. Lines break at '\n',
// at spaces when they can, and between grapheme clusters inside a word
// longer than a line. Widths are measured with ms, so that a line never
// ends up wider than its limit on the session's terminal.
func wrap(ms measure, dst []segment, text string, first, rest int) []segment {
	limit := first
	for off := 0; ; {
		end := strings.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += off
		}
		dst = wrapParagraph(ms, dst, text, off, end, limit, rest)
		if end == len(text) {
			return dst
		}
		off, limit = end+1, rest
	}
}

func wrapParagraph(ms measure, dst []segment, text string, from, to, limit, rest int) []segment {
	var (
		start   = from
		w       = 0     // width of text[start:i]
		wrapped = false // the current line continues a wrapped one
		brk     = -1    // start of the last run of spaces in the line
		wBrk    = 0     // width of text[start:brk]
		resume  = 0     // just after that run
	)
	for i := from; i < to; {
		if text[i] == ' ' {
			switch {
			case wrapped && i == start: // no leading space on a wrapped line
				start = i + 1
			case w+1 > limit:
				end, endWidth := i, w
				if brk >= 0 && i == resume { // the line ends with spaces: drop them
					end, endWidth = brk, wBrk
				}
				dst = append(dst, segment{start, end, endWidth})
				start, w, wrapped, brk, limit = i+1, 0, true, -1, rest
			default:
				if brk < 0 || i != resume {
					brk, wBrk = i, w
				}
				w++
				resume = i + 1
			}
			i++
			continue
		}
		n, cw := ms.cluster(text[:to], i)
		if w > 0 && w+cw > limit {
			wrapped, limit = true, rest
			if brk > start {
				// Break at the last space and measure the word that
				// follows it again, against the new line's limit.
				dst = append(dst, segment{start, brk, wBrk})
				start, w, brk, i = resume, 0, -1, resume
				continue
			}
			dst = append(dst, segment{start, i, w})
			start, w, brk = i, 0, -1
		}
		w += cw
		i += n
	}
	if start < to || !wrapped {
		dst = append(dst, segment{start, to, w})
	}
	return dst
}

// spaces returns n spaces, sharing one buffer for the common sizes.
func spaces(n int) string {
	if n <= 0 {
		return ""
	}
	if n <= len(blank) {
		return blank[:n]
	}
	return strings.Repeat(" ", n)
}

var blank = strings.Repeat(" ", 512)
