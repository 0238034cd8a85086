package bus_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/sshchat/sshchat/bus"
	"github.com/sshchat/sshchat/history"
	"github.com/sshchat/sshchat/hub"
)

// TestRoomsIntoOneLog wires the pieces as a server does: the hubs of many
// rooms stamp through one bus into one event log. The log holds every
// event once, in one increasing sequence; after a restart each room gets
// its own last events back and the sequence goes on.
func TestRoomsIntoOneLog(t *testing.T) {
	const (
		rooms   = 12
		perRoom = 200
		keep    = 50
	)
	path := filepath.Join(t.TempDir(), "events.log")
	quiet := slog.New(slog.DiscardHandler)

	// run opens the log, posts perRoom messages in every room at once and
	// stops everything in order: hubs, bus, log.
	run := func(round int) *history.Log {
		log, err := history.Open(path, history.Options{Keep: keep, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		b := bus.NewLocal(log.LastID(), log.Listener())
		byRoom := log.RecentByRoom()
		hubs := make([]*hub.Hub, rooms)
		for r := range hubs {
			id := fmt.Sprintf("room%d", r)
			hubs[r] = hub.New(id, 64, keep, hub.WithStamp(b.Stamp), hub.WithHistory(byRoom[id]))
		}
		var wg sync.WaitGroup
		for r, h := range hubs {
			wg.Go(func() {
				for i := range perRoom {
					err := h.Post(hub.Event{Type: hub.EventTypeNotice, Message: fmt.Sprintf("%d/%d/%d", round, r, i)})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		for _, h := range hubs {
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
		}
		b.Close()
		if err := log.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		return log
	}

	run(0)
	log := run(1)
	if want := rooms * (perRoom + 1); log.LastID() != want {
		t.Errorf("the second run started after ID %d, want %d", log.LastID(), want)
	}

	reopened, err := history.Open(path, history.Options{Keep: keep, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close(context.Background())
	total := 2 * rooms * (perRoom + 1) // each room's messages and its close, twice
	if reopened.LastID() != total {
		t.Errorf("LastID %d, want %d", reopened.LastID(), total)
	}
	var ids []int
	for _, rec := range records(t, path) {
		ids = append(ids, rec.Event.ID)
	}
	if len(ids) != total || !slices.IsSorted(ids) || ids[0] != 1 || ids[len(ids)-1] != total {
		t.Fatalf("the log holds %d events, IDs sorted %v, from %d to %d; want 1..%d in order",
			len(ids), slices.IsSorted(ids), ids[0], ids[len(ids)-1], total)
	}
	byRoom := reopened.RecentByRoom()
	for r := range rooms {
		id := fmt.Sprintf("room%d", r)
		evs := byRoom[id]
		if len(evs) != keep || evs[keep-1].Type != hub.EventTypeClose {
			t.Fatalf("%s restored %d events ending in %+v", id, len(evs), evs[len(evs)-1])
		}
		if want := fmt.Sprintf("1/%d/%d", r, perRoom-1); evs[keep-2].Message != want {
			t.Errorf("%s: last message %q, want %q", id, evs[keep-2].Message, want)
		}
	}
}

func records(t *testing.T, path string) []history.Record {
	t.Helper()
	recs, err := history.Tail(path, 1<<30, history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
