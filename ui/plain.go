package ui

import (
	"strings"
	"time"

	"github.com/sshchat/sshchat/hub"
)

// PlainLine formats an event as the transcript shows it, as plain text for
// scripts and logs: "15:04:05 ann: hello", "15:04:05 → ann joined",
// "15:04:05 [dm] ann → bob: psst". The time is formatted in loc with
// layout. Events the transcript does not show give "".
func PlainLine(ev hub.Event, loc *time.Location, layout string) string {
	line, _, _ := Plain(ev, loc, time.Unix(ev.UnixTime, 0).In(loc).Format(layout)+" ")
	return line
}

// Plain formats an event as the transcript shows it, as plain text after
// prefix. Continuation lines of a multi-line text are indented under its
// first line's text. system reports a line about the room rather than
// something said; ok is false for an event the transcript does not show
// (such as a type from a newer server).
func Plain(ev hub.Event, loc *time.Location, prefix string) (line string, system, ok bool) {
	e := entryFor(ev, loc, &plainGlyphs)
	if e == nil {
		return "", false, false
	}
	head := prefix
	switch e.kind {
	case kindMessage:
		head += e.name + ": "
	case kindAction:
		head += "* " + e.name + " "
	case kindDirect:
		head += "[dm] " + e.name + plainGlyphs.to + e.toName + ": "
	default:
		system = true
	}
	return head + strings.ReplaceAll(e.text, "\n", "\n"+spaces(measure{}.width(head))), system, true
}
