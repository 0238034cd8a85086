package sshserver

import (
	"fmt"
	"testing"

	"github.com/sshchat/sshchat/hub"
)

// TestBatchFoldsACrowd: a batch keeps presenceKept arrivals and departures
// one by one and folds the rest into one roster event, in place, with the
// last one's ID; messages between them stay.
func TestBatchFoldsACrowd(t *testing.T) {
	var batch []hub.Event
	kept := 0
	add := func(ev hub.Event) { batch, kept = gather(batch, kept, ev) }
	id := 0
	for range presenceKept + 10 {
		id++
		add(hub.Event{ID: id, Type: hub.EventTypeJoin})
	}
	id++
	add(hub.Event{ID: id, Type: hub.EventTypeMessage})
	for range 5 {
		id++
		add(hub.Event{ID: id, Type: hub.EventTypeLeave})
	}
	var types []string
	for _, ev := range batch[presenceKept:] {
		types = append(types, fmt.Sprint(ev.Type, ev.ID))
	}
	want := fmt.Sprintf("[roster%d message%d roster%d]", presenceKept+10, presenceKept+11, id)
	if len(batch) != presenceKept+3 || fmt.Sprint(types) != want {
		t.Errorf("batch after %d kept = %v, want %s", presenceKept, types, want)
	}
}

// TestBatchFoldsEachRoomApart: past presenceKept, arrivals fold into a
// roster event of their own room: one room's crowd never stands for
// another's.
func TestBatchFoldsEachRoomApart(t *testing.T) {
	var batch []hub.Event
	kept := 0
	for i := range presenceKept {
		batch, kept = gather(batch, kept, hub.Event{ID: i + 1, ChatRoomID: "a", Type: hub.EventTypeJoin})
	}
	batch, kept = gather(batch, kept, hub.Event{ID: 100, ChatRoomID: "a", Type: hub.EventTypeJoin})
	batch, kept = gather(batch, kept, hub.Event{ID: 101, ChatRoomID: "b", Type: hub.EventTypeJoin})
	batch, _ = gather(batch, kept, hub.Event{ID: 102, ChatRoomID: "b", Type: hub.EventTypeLeave})
	var got []string
	for _, ev := range batch[presenceKept:] {
		got = append(got, fmt.Sprint(ev.Type, ev.ChatRoomID, ev.ID))
	}
	if want := "[rostera100 rosterb102]"; fmt.Sprint(got) != want {
		t.Errorf("folded = %v, want %s", got, want)
	}
}
