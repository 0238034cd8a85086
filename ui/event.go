package ui

import (
	"strings"
	"time"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/sanitize"
)

// entryFor makes the transcript entry of a hub event, or nil for an event
// it does not show (a type newer than this code, an empty notice). Times
// the text mentions (the end of a ban) are in loc; g gives the arrows.
func entryFor(ev hub.Event, loc *time.Location, g *glyphs) *entry {
	e := &entry{kind: kindEvent, unix: ev.UnixTime, userID: ev.UserID}
	var name string
	if ev.Type != hub.EventTypeClose && ev.Type != hub.EventTypeNotice {
		name = displayName(ev.UserID, ev.Name)
	}
	reason := ""
	if r := sanitize.Line(ev.Reason); r != "" {
		reason = " (" + r + ")"
	}
	switch ev.Type {
	case hub.EventTypeMessage:
		e.kind, e.name, e.text = kindMessage, name, sanitize.Text(ev.Message)
	case hub.EventTypeAction:
		e.kind, e.name, e.text = kindAction, name, sanitize.Text(ev.Message)
	case hub.EventTypeDirect:
		e.kind, e.name, e.text = kindDirect, name, sanitize.Text(ev.Message)
		e.toID, e.toName = ev.To, displayName(ev.To, ev.ToName)
	case hub.EventTypeJoin:
		e.text = g.arrived + name + " joined" + reason
		e.name, e.crowd = name, crowdOf(ev)
	case hub.EventTypeLeave:
		e.text = g.left + name + " left" + reason
		e.name, e.crowd = name, crowdOf(ev)
	case hub.EventTypeAdd:
		e.kind, e.text = kindSubtle, name+" +1 session"+reason
	case hub.EventTypeRemove:
		e.kind, e.text = kindSubtle, name+" "+g.minus+"1 session"+reason
	case hub.EventTypeNick:
		e.text = g.arrived + displayName(ev.UserID, ev.OldName) + " is now known as " + name
	case hub.EventTypeAway:
		e.text = name + " is away"
		if why := sanitize.Line(ev.Message); why != "" {
			e.text += " (" + why + ")"
		}
	case hub.EventTypeBack:
		e.text = name + " is back"
	case hub.EventTypeNotice:
		e.kind, e.text = kindWarning, sanitize.Text(ev.Message)
		if strings.TrimSpace(e.text) == "" {
			return nil
		}
	case hub.EventTypeKick:
		e.text = target(ev) + " was kicked" + by(ev) + reason
	case hub.EventTypeBan:
		e.text = target(ev) + " was banned" + by(ev) + until(ev, loc) + reason
	case hub.EventTypeUnban:
		e.text = target(ev) + " was unbanned" + by(ev)
	case hub.EventTypeMute:
		e.text = target(ev) + " was muted" + by(ev) + until(ev, loc) + reason
	case hub.EventTypeUnmute:
		e.text = target(ev) + " was unmuted" + by(ev)
	case hub.EventTypeRelease:
		e.text = "the name " + sanitize.Line(ev.Message) + " of " + target(ev) + " was released" + by(ev)
	case hub.EventTypeMotd:
		e.text = "message of the day: " + sanitize.Text(ev.Message)
	case hub.EventTypeClose:
		e.text = "server is shutting down"
		if r := sanitize.Line(ev.Reason); r != "" {
			e.text = r
		}
	case hub.EventTypeTopic:
		e.text = name + " cleared the topic"
		if topic := sanitize.Line(ev.Message); topic != "" {
			e.text = name + " set the topic: " + topic
		}
	case hub.EventTypeCreate:
		e.text = name + " created " + roomTitle(ev.ChatRoomID)
	case hub.EventTypeDrop:
		e.text = name + " dropped " + roomTitle(ev.ChatRoomID) + reason
	case hub.EventTypeOp:
		e.text = target(ev) + " was made an operator" + by(ev)
	case hub.EventTypeDeop:
		e.text = target(ev) + " was removed as an operator" + by(ev)
	case hub.EventTypeMode:
		switch mode := sanitize.Line(ev.Message); mode {
		case "+i":
			e.text = name + " made the room invite-only"
		case "-i":
			e.text = name + " opened the room to all"
		default:
			e.text = name + " set the mode " + mode
		}
	case hub.EventTypeInvite:
		e.text = name + " invited " + target(ev)
	default:
		// A type newer than this code: its Message says what it is.
		e.text = sanitize.Text(ev.Message)
		if ev.Type == hub.EventTypeRoster || strings.TrimSpace(e.text) == "" {
			return nil
		}
	}
	return e
}

// makeEntry is entryFor as a session of st shows it: ASCII only on a
// terminal without UTF-8.
func makeEntry(ev hub.Event, loc *time.Location, st *styles) *entry {
	e := entryFor(ev, loc, st.g)
	if e != nil && st.ascii {
		e.text, e.name, e.toName = toASCII(e.text), toASCII(e.name), toASCII(e.toName)
	}
	return e
}

// target is the name of the user a moderation event concerns.
func target(ev hub.Event) string { return displayName(ev.To, ev.ToName) }

// by names the admin of a moderation event: " by admin".
func by(ev hub.Event) string {
	if ev.UserID == "" && ev.Name == "" {
		return " by the server"
	}
	return " by " + displayName(ev.UserID, ev.Name)
}

// until says when a ban or a mute ends: " until 15:04" the same day,
// " until 2006-01-02 15:04" another, " for good" never.
func until(ev hub.Event, loc *time.Location) string {
	if ev.Until == 0 {
		return " for good"
	}
	end := time.Unix(ev.Until, 0).In(loc)
	y1, m1, d1 := end.Date()
	y2, m2, d2 := time.Unix(ev.UnixTime, 0).In(loc).Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return " until " + end.Format("15:04")
	}
	return " until " + end.Format("2006-01-02 15:04")
}

// displayName is how a user is shown (sanitize.Name).
func displayName(userID, name string) string { return sanitize.Name(userID, name) }
