package ui

import (
	"strconv"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/sanitize"
)

// A storm of arrivals (a server restart, a class logging in at nine)
// would fill every screen with "→ x joined" and every session's
// transcript with entries nobody reads. Arrivals in a row within the same
// minute make one line instead, "→ ann, bob, carol and 37 others joined",
// and so do departures. Only plain ones: a departure with a reason
// (evicted, kicked ...) keeps its own line.

// crowdKind says which crowd line an entry can gather into, if any.
type crowdKind uint8

const (
	crowdNone crowdKind = iota
	crowdJoined
	crowdLeft
)

// crowdNamed is how many names a crowd line shows before "and N others".
const crowdNamed = 3

// others is who came or went with the first one of a crowd line.
type others struct {
	names []string // the next ones named, up to crowdNamed-1
	more  int      // and how many after them
}

// gatherEvent adds ev, when it is a plain arrival or departure, to the
// crowd line at the end of the transcript if it can, and reports whether
// it did; then no entry is to be made of ev. In a storm every session
// takes every arrival: no entry is made of it, and the line's
// text is made again only when it is next laid out.
func (t *transcript) gatherEvent(ev hub.Event) bool {
	k := crowdOf(ev)
	if k == crowdNone || len(t.entries) == 0 || t.out != nil { // a line written stays as it is
		return false
	}
	last := t.entries[len(t.entries)-1]
	if last.crowd != k || last.unix/60 != ev.UnixTime/60 {
		return false
	}
	if last.shared != nil {
		last = last.own()
		t.entries[len(t.entries)-1] = last
	}
	if last.others == nil {
		last.others = &others{}
	}
	o := last.others
	if len(o.names) < crowdNamed-1 {
		o.names = append(o.names, t.st.show(displayName(ev.UserID, ev.Name)))
	} else {
		o.more++
	}
	last.stale = true
	last.width = 0 // laid out again
	return true
}

// crowdOf is the crowd line an event can gather into, if any.
func crowdOf(ev hub.Event) crowdKind {
	if sanitize.Line(ev.Reason) != "" {
		return crowdNone
	}
	switch ev.Type {
	case hub.EventTypeJoin:
		return crowdJoined
	case hub.EventTypeLeave:
		return crowdLeft
	}
	return crowdNone
}

// crowdText is the line of a crowd: "→ ann, bob, carol and 2 others joined".
func crowdText(k crowdKind, first string, o *others, g *glyphs) string {
	arrow, verb := g.arrived, " joined"
	if k == crowdLeft {
		arrow, verb = g.left, " left"
	}
	names := append([]string{first}, o.names...)
	text := arrow
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1 && o.more == 0:
			text += " and "
		default:
			text += ", "
		}
		text += n
	}
	switch o.more {
	case 0:
	case 1:
		text += " and 1 other"
	default:
		text += " and " + strconv.Itoa(o.more) + " others"
	}
	return text + verb
}
