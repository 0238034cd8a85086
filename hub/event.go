package hub

// Event is one thing that happened in a room. Subscribers and listeners
// receive every event in ID order; the JSON form is one line of the event log.
type Event struct {
	ID         int    `json:"id"`
	ChatRoomID string `json:"chatroomId"`
	Type       string `json:"type"`
	UserID     string `json:"userId,omitempty"`    // empty for Type "close"
	SessionID  string `json:"sessionId,omitempty"` // empty for Type "close" and "message"
	Name       string `json:"name,omitempty"`      // the user's display name when the event happened
	Message    string `json:"message,omitempty"`   // the text of a "message"
	Reason     string `json:"reason,omitempty"`    // why a session went away or the room closed, when not by request
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
)
