package ui

import (
	"strings"
	"time"

	"github.com/sshchat/sshchat/hub"
)

// PlainLine formats an event as the transcript shows it, as plain text for
// scripts and logs: "15:04:05 ann: hello", "15:04:05 → ann joined". The
// time is formatted in loc with layout. Continuation lines of a multi-line
// message are indented under its text. Events the transcript does not show
// give "".
func PlainLine(ev hub.Event, loc *time.Location, layout string) string {
	e := entryFor(ev)
	if e == nil {
		return ""
	}
	at := time.Unix(ev.UnixTime, 0).In(loc).Format(layout) + " "
	if e.kind != kindMessage {
		return at + e.text
	}
	head := at + e.name + ": "
	return head + strings.ReplaceAll(e.text, "\n", "\n"+spaces(stringWidth(head)))
}
