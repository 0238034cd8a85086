package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/internal/natstest"
)

func TestRead(t *testing.T) {
	s := natstest.Run(t)
	a := connect(t, s.URL(), "rd", "a")
	ctx := testCtx(t)
	for i := 1; i <= 5; i++ {
		if _, err := a.Publish(ctx, message("lobby", "u", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{URL: s.URL(), Cluster: "rd"}

	read := func(from uint64) ([]int, error) {
		var got []int
		err := Read(ctx, cfg, from, false, func(ev hub.Event) error {
			if ev.Message != fmt.Sprint(ev.ID) {
				return fmt.Errorf("event %d carries %q", ev.ID, ev.Message)
			}
			got = append(got, ev.ID)
			return nil
		})
		return got, err
	}
	if got, err := read(2); err != nil || !slices.Equal(got, []int{2, 3, 4, 5}) {
		t.Fatalf("read from 2: %v, %v", got, err)
	}
	if got, err := read(0); err != nil || len(got) != 5 {
		t.Fatalf("read from 0: %v, %v", got, err)
	}
	if got, err := read(6); err != nil || len(got) != 0 {
		t.Fatalf("read past the end: %v, %v", got, err)
	}

	// The last events deleted: the read still ends.
	st, err := a.JetStream().Stream(ctx, a.names.stream)
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{4, 5} {
		if err := st.DeleteMsg(ctx, seq); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := read(4); err != nil || len(got) != 0 {
		t.Fatalf("read of deleted events: %v, %v", got, err)
	}

	// An error of fn ends the read.
	stop := errors.New("enough")
	if err := Read(ctx, cfg, 1, false, func(hub.Event) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("fn's error: %v", err)
	}

	// A cluster name without a stream is an error that says so.
	err = Read(ctx, Config{URL: s.URL(), Cluster: "nope"}, 1, false, func(hub.Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "cluster name") {
		t.Fatalf("unknown cluster: %v", err)
	}
}

func TestReadFollow(t *testing.T) {
	s := natstest.Run(t)
	a := connect(t, s.URL(), "fol", "a")
	ctx := testCtx(t)
	if _, err := a.Publish(ctx, message("lobby", "u", "1")); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var got []int
	seen := make(chan int, 10)
	done := make(chan error, 1)
	go func() {
		done <- Read(fctx, Config{URL: s.URL(), Cluster: "fol"}, 1, true, func(ev hub.Event) error {
			mu.Lock()
			got = append(got, ev.ID)
			mu.Unlock()
			seen <- ev.ID
			return nil
		})
	}()
	<-seen // event 1: the reader runs
	for i := 2; i <= 3; i++ {
		if _, err := a.Publish(ctx, message("lobby", "u", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	<-seen
	<-seen
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("follow ended with %v, want nil", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("followed %v", got)
	}
}
