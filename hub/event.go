package hub

// Event is one thing that happened in a room. Subscribers and listeners
// receive every event in ID order (a direct message only reaches the two
// users it is between); the JSON form is one line of the event log.
type Event struct {
	ID         int    `json:"id"`
	ChatRoomID string `json:"chatroomId"`
	Type       string `json:"type"`
	UserID     string `json:"userId,omitempty"`    // who did it; empty for "close" and "notice"
	SessionID  string `json:"sessionId,omitempty"` // set for arrivals and departures only
	Name       string `json:"name,omitempty"`      // UserID's display name when the event happened
	Message    string `json:"message,omitempty"`   // the text: of a message, action, direct message, away, motd, notice
	Reason     string `json:"reason,omitempty"`    // why: a departure not by request, a close, a kick, ban or mute
	To         string `json:"to,omitempty"`        // whom it concerns: the recipient of a direct message, the user kicked, banned or muted
	ToName     string `json:"toName,omitempty"`    // To's display name
	OldName    string `json:"oldName,omitempty"`   // for "nick": the name before
	Until      int64  `json:"until,omitempty"`     // for "ban" and "mute": when it ends, Unix seconds; 0 for never
	Node       string `json:"node,omitempty"`      // with several nodes: where the session of an arrival or departure is, or where the event was made
	UnixTime   int64  `json:"unixTime"`            // seconds since the Unix epoch
}

// Event types. Every event has exactly one.
const (
	// EventTypeMessage is the event type for when a message is sent to the chat.
	EventTypeMessage = "message"

	// EventTypeAdd happens when a new session is added for an existing user.
	EventTypeAdd = "add"

	// EventTypeJoin happens when a new user is added with their first session.
	EventTypeJoin = "join"

	// EventTypeRemove happens when a session is removed for a user but other sessions still exist.
	EventTypeRemove = "remove"

	// EventTypeLeave happens when a user removes their last session.
	EventTypeLeave = "leave"

	// EventTypeClose happens when the chat is closed.
	EventTypeClose = "close"

	// EventTypeAction is a message in the third person (/me waves).
	EventTypeAction = "action"

	// EventTypeDirect is a message from UserID to To only.
	EventTypeDirect = "direct"

	// EventTypeNick happens when a user changes name, for all sessions.
	EventTypeNick = "nick"

	// EventTypeAway and EventTypeBack mark a user away (Message: why) and back.
	EventTypeAway = "away"
	EventTypeBack = "back"

	// EventTypeNotice is a line from the server to the room (Message).
	EventTypeNotice = "notice"

	// Moderation, by UserID (an admin, or the room's owner or an
	// operator): To is the user concerned, in the room of the event.
	EventTypeKick   = "kick"
	EventTypeBan    = "ban"
	EventTypeUnban  = "unban"
	EventTypeMute   = "mute"
	EventTypeUnmute = "unmute"
	EventTypeMotd   = "motd" // the message of the day is now Message
	// EventTypeRelease: the name Message, which To owned, is free again.
	EventTypeRelease = "release"

	// Rooms. Each of these events is in the room it concerns.
	// EventTypeTopic: UserID set the room's topic to Message ("" clears it).
	EventTypeTopic = "topic"
	// EventTypeCreate: UserID created the room, and owns it.
	EventTypeCreate = "create"
	// EventTypeDrop: UserID removed the room (Reason); everyone in it is out.
	EventTypeDrop = "drop"
	// EventTypeOp and EventTypeDeop: UserID made To an operator of the
	// room, or took it back.
	EventTypeOp   = "op"
	EventTypeDeop = "deop"
	// EventTypeMode: UserID set the room's mode Message ("+i": invite only, "-i": open).
	EventTypeMode = "mode"
	// EventTypeInvite: UserID invited To into the room.
	EventTypeInvite = "invite"

	// EventTypeRoster is never recorded nor sent to listeners: it stands
	// in a lagging subscriber's stream for presence events it was not
	// given one by one (arrivals, departures, renames, away and back), and
	// tells it to look at who is online now. Its ID is the last of those
	// events; UserID is the subscriber's own user and Name what that user
	// is called now (its own renames fold into the roster too).
	EventTypeRoster = "roster"
)

// Types lists every event type that is recorded (all but EventTypeRoster).
func Types() []string {
	return []string{
		EventTypeMessage, EventTypeJoin, EventTypeAdd, EventTypeRemove, EventTypeLeave, EventTypeClose,
		EventTypeAction, EventTypeDirect, EventTypeNick, EventTypeAway, EventTypeBack, EventTypeNotice,
		EventTypeKick, EventTypeBan, EventTypeUnban, EventTypeMute, EventTypeUnmute, EventTypeMotd,
		EventTypeRelease, EventTypeTopic, EventTypeCreate, EventTypeDrop, EventTypeOp, EventTypeDeop,
		EventTypeMode, EventTypeInvite,
	}
}
