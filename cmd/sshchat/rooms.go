package main

import (
	"sync"

	"github.com/sshchat/sshchat/chat"
	"github.com/sshchat/sshchat/hub"
)

// rooms makes the hub of each room for the chat core (chat.Config.OpenRoom):
// seeded with the room's last events from the log, numbered by the bus.
// It keeps the hubs it made so that the metrics see all the rooms as one
// server: counts added up, not labelled by room, so that a thousand rooms
// do not make a thousand series.
type rooms struct {
	cfg   config
	stamp func(hub.Event) (hub.Event, error) // the bus's; set before the first open

	mu        sync.Mutex
	recent    map[string][]hub.Event // guarded by mu: each room's last events, until its hub takes them
	restored  int                    // rooms found in the log at start
	hubs      map[string]*hub.Hub    // guarded by mu: the hub of every room open, by ID
	listeners []chan<- hub.Event     // guarded by mu: they get every event the bus logs (tee)
}

func newRooms(cfg config, recent map[string][]hub.Event) *rooms {
	return &rooms{cfg: cfg, recent: recent, restored: len(recent), hubs: make(map[string]*hub.Hub)}
}

// open makes the hub of room id.
func (r *rooms) open(id string) (chat.Room, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	opts := []hub.Option{hub.WithHistory(r.recent[id]), hub.WithStamp(r.stamp),
		hub.WithMaxBehind(r.cfg.MaxBehind), hub.WithMaxLag(r.cfg.MaxLag),
		hub.WithSubscriberBuffer(chat.RoomBuffer)}
	if id == chat.DirectID {
		opts = append(opts, hub.WithoutPresence(), hub.WithSubscriberBuffer(chat.DirectBuffer))
	}
	delete(r.recent, id) // the hub has them now; a room made again later starts empty
	h := hub.New(id, 1024, r.cfg.History, opts...)
	r.hubs[id] = h
	return closing{h, r}, nil
}

// closing is a room's hub that the rooms forget when it closes (a room
// dropped), so that rooms made and dropped do not pile up.
type closing struct {
	*hub.Hub
	r *rooms
}

func (c closing) Close() error {
	err := c.Hub.Close()
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	if c.r.hubs[c.ID()] == c.Hub {
		delete(c.r.hubs, c.ID())
	}
	return err
}

// all returns the hubs open.
func (r *rooms) all() []*hub.Hub {
	r.mu.Lock()
	defer r.mu.Unlock()
	hubs := make([]*hub.Hub, 0, len(r.hubs))
	for _, h := range r.hubs {
		hubs = append(hubs, h)
	}
	return hubs
}

// closeAll closes every hub still open: a start that failed half-way.
func (r *rooms) closeAll() {
	for _, h := range r.all() {
		_ = h.Close()
	}
}

// QueueLen is the requests waiting for all the hubs together (metrics.Hub).
func (r *rooms) QueueLen() int {
	n := 0
	for _, h := range r.all() {
		n += h.QueueLen()
	}
	return n
}

// Stats adds up the hubs' delivery figures (metrics.Hub); MaxQueued is
// the largest of them.
func (r *rooms) Stats() hub.Stats {
	var st hub.Stats
	for _, h := range r.all() {
		s := h.Stats()
		st.Subscribers += s.Subscribers
		st.Lagging += s.Lagging
		st.Queued += s.Queued
		st.MaxQueued = max(st.MaxQueued, s.MaxQueued)
		st.Evicted += s.Evicted
	}
	return st
}

// AttachListener gives l every event the bus logs, of every room, in ID
// order (metrics.Hub); l is closed after the last one. It works only on
// a tee made before.
func (r *rooms) AttachListener(l chan<- hub.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.listeners = append(r.listeners, l)
}

// tee returns the channel for the bus to log to: every event goes to out,
// then to the listeners attached, each waited for. When the bus closes
// it, out and the listeners are closed.
func (r *rooms) tee(out chan<- hub.Event) chan<- hub.Event {
	in := make(chan hub.Event, 256)
	go func() {
		for ev := range in {
			out <- ev
			r.mu.Lock()
			ls := r.listeners
			r.mu.Unlock()
			for _, l := range ls {
				l <- ev
			}
		}
		close(out)
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, l := range r.listeners {
			close(l)
		}
		r.listeners = nil
	}()
	return in
}
