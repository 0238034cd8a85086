package sshserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/chat"
	"github.com/sshchat/sshchat/hub"
)

// TestShutdownWithBlockedListener: a hub listener that stops taking events
// (a log stuck on its disk) holds up the hub's close; Shutdown must still
// return when its context ends, and everything ends once the listener
// reads again (goleak checks).
func TestShutdownWithBlockedListener(t *testing.T) {
	signer := newSigner(t)
	h := hub.New("lobby", 8, 8)
	stuck := make(chan hub.Event) // nobody reads it yet
	h.AttachListener(stuck)
	open := func(id string) (chat.Room, error) {
		if id == "lobby" {
			return h, nil
		}
		return hub.New(id, 8, 8, hub.WithoutPresence()), nil // the direct messages'
	}
	s, err := New(Rooms{Lobby: "lobby", Open: open}, []gossh.Signer{signer}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	h.Message("SHA256:someone", "the hub waits for the listener to take this")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %v, want context.Canceled", err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve = %v, want ErrServerClosed", err)
	}
	var got []string
	for ev := range stuck { // the listener reads again: the hub closes
		got = append(got, ev.Type)
	}
	if len(got) != 2 || got[0] != hub.EventTypeMessage || got[1] != hub.EventTypeClose {
		t.Errorf("listener got %v, want the message and close", got)
	}
}
