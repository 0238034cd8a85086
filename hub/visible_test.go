package hub

import "testing"

func TestVisible(t *testing.T) {
	ignoresMallory := map[string]bool{"mallory": true}
	tests := []struct {
		name    string
		ev      Event
		viewer  string
		ignored map[string]bool
		want    bool
	}{
		{"a message", Event{Type: EventTypeMessage, UserID: "alice"}, "carol", nil, true},
		{"a direct message, to its sender", Event{Type: EventTypeDirect, UserID: "alice", To: "bob"}, "alice", nil, true},
		{"a direct message, to its recipient", Event{Type: EventTypeDirect, UserID: "alice", To: "bob"}, "bob", nil, true},
		{"a direct message, to anyone else", Event{Type: EventTypeDirect, UserID: "alice", To: "bob"}, "carol", nil, false},
		{"a direct message, to nobody", Event{Type: EventTypeDirect, UserID: "alice", To: "bob"}, "", nil, false},
		{"an ignored user's message", Event{Type: EventTypeMessage, UserID: "mallory"}, "carol", ignoresMallory, false},
		{"an ignored user's action", Event{Type: EventTypeAction, UserID: "mallory"}, "carol", ignoresMallory, false},
		{"an ignored user's direct message", Event{Type: EventTypeDirect, UserID: "mallory", To: "carol"}, "carol", ignoresMallory, false},
		{"an ignored user's arrival", Event{Type: EventTypeJoin, UserID: "mallory"}, "carol", ignoresMallory, true},
		{"a message to one who ignores someone else", Event{Type: EventTypeMessage, UserID: "alice"}, "carol", ignoresMallory, true},
	}
	for _, tt := range tests {
		if got := Visible(tt.ev, tt.viewer, tt.ignored); got != tt.want {
			t.Errorf("%s: Visible = %v, want %v", tt.name, got, tt.want)
		}
	}
}
