package ui

import "strings"

// completion is what Tab is cycling through: the matches for the word it
// completed, and the line around that word. Any other key ends it.
type completion struct {
	matches        []string
	next           int    // the match the next Tab puts in
	before, after  []rune // the line around the word
	single, spaced bool   // one match only; it is followed by a space
}

// complete is Tab: the word under the cursor becomes the first of the
// matches find returns for the part of it before the cursor (start tells
// whether the word starts the line). Pressed again, Tab puts in the next
// match, cycling; a single match is followed by a space.
func (in *input) complete(find func(prefix string, start bool) []string) {
	c := &in.comp
	if c.matches == nil {
		v := []rune(in.ti.Value())
		pos := min(in.ti.Position(), len(v))
		from, to := pos, pos
		for from > 0 && v[from-1] != ' ' {
			from--
		}
		for to < len(v) && v[to] != ' ' {
			to++
		}
		matches := find(string(v[from:pos]), from == 0)
		if len(matches) == 0 {
			return
		}
		*c = completion{
			matches: matches,
			before:  v[:from:from],
			after:   v[to:],
			single:  len(matches) == 1,
		}
		c.spaced = c.single && (len(c.after) == 0 || c.after[0] != ' ')
	}
	word := []rune(c.matches[c.next])
	c.next = (c.next + 1) % len(c.matches)
	if c.spaced {
		word = append(word, ' ')
	}
	line := append(append(c.before, word...), c.after...)
	cursor := len(c.before) + len(word)
	if c.single && !c.spaced {
		cursor++ // past the space already there
	}
	in.ti.SetValue(string(line))
	in.ti.SetCursor(cursor)
	in.dirty = true
}

// completions finds what Tab offers for prefix: at the start of the line,
// after a '/', the commands; after a '#', the rooms the session is in;
// anywhere else the names of the users online but this one (an '@'
// before the name is kept), ignoring case.
func (m *Model) completions(prefix string, start bool) []string {
	if start && strings.HasPrefix(prefix, "/") {
		p := strings.ToLower(prefix[1:])
		var names []string
		for _, c := range m.commands {
			if strings.HasPrefix(c.name, p) {
				names = append(names, "/"+c.name)
			}
		}
		return names
	}
	if strings.HasPrefix(prefix, "#") {
		var names []string
		for _, r := range m.rooms {
			if strings.HasPrefix(r.title, strings.ToLower(prefix)) {
				names = append(names, r.title)
			}
		}
		return names
	}
	at := strings.HasPrefix(prefix, "@")
	if at {
		prefix = prefix[1:]
	}
	if prefix == "" {
		return nil
	}
	names := m.members.complete(prefix, m.userID)
	if at {
		for i := range names {
			names[i] = "@" + names[i]
		}
	}
	return names
}
