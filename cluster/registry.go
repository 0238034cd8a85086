package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sshchat/sshchat/registry"
)

// The registry's bucket holds an entry of the registry under each key:
// `<kind>.<Key in base64url without padding>` (`motd._` for the message
// of the day), its value the JSON of regValue. An entry that is gone is a
// value of null, not a deletion, so that it still says which node made
// it; a deletion or purge made by hand is read as gone too.
const (
	regQueueMax     = 4096            // entries waiting for their put, beside the seed; past it a change is dropped, logged and counted
	regPutTimeout   = 5 * time.Second // one put, until its ack
	regPutAttempts  = 5               // tries of one put, 100 ms apart and doubling, before it is dropped
	regDrainTimeout = 5 * time.Second // what stop gives the puts still waiting
	// regWatchCheck is how often the watch looks for a reconnection: the
	// watch's consumer may be gone with the server it was on, and it
	// would take its own heartbeats 20 s or more to find out.
	regWatchCheck = 500 * time.Millisecond
)

// regValue is a value of the registry's bucket.
type regValue struct {
	Origin string          `json:"origin"` // the node that made the change
	Value  json.RawMessage `json:"value"`  // registry.Change.Value; null: the entry is gone
}

// regKey is the bucket's key of an entry.
func regKey(kind, key string) string {
	if kind == registry.KindMotd {
		return registry.KindMotd + "._"
	}
	return kind + "." + base64.RawURLEncoding.EncodeToString([]byte(key))
}

// parseRegKey is the entry of a bucket's key.
func parseRegKey(k string) (kind, key string, err error) {
	kind, enc, ok := strings.Cut(k, ".")
	switch {
	case !ok:
	case kind == registry.KindMotd:
		if enc == "_" {
			return kind, "", nil
		}
	case kind == registry.KindUser, kind == registry.KindBan, kind == registry.KindMute,
		kind == registry.KindRoom, kind == registry.KindIgnores:
		b, err := base64.RawURLEncoding.DecodeString(enc)
		if err == nil && len(b) > 0 {
			return kind, string(b), nil
		}
	}
	return "", "", fmt.Errorf("not a key of the registry: %.80q", k)
}

// SyncRegistry shares reg with the other nodes through the KV bucket
// (made if missing, else updated, with History 1 and replicas replicas,
// at least 1: the config every node must give it, Connect included). It
// returns once reg holds every entry of the bucket (the bucket wins over
// what reg had) and the entries of reg missing from the bucket are
// queued for it (the first node seeds it); ctx bounds that start only.
// Then every local change of reg is put in the bucket, in order, by a
// goroutine of the sync (queued: at most regQueueMax entries beside the
// seed, a change of an entry already queued taking no room; past that a
// change is dropped, logged and counted), and a watch applies the changes
// of the other nodes, usually within milliseconds; after a reconnection
// it starts again from where it was.
//
// Two nodes changing one entry at once end with the same entry, the one
// the bucket kept last: a node's own change waiting for its put holds
// back the others' changes of that entry until the put's revision says
// which is newer. Each put carries the entry as it is when it is sent.
//
// reg's OnChange is the sync's until stop, which clears it, ends the
// watch (up to the JetStream API's timeout when the server is out of
// reach), gives the waiting puts up to regDrainTimeout, and returns once
// every goroutine of the sync has ended. Stopping twice is fine.
func SyncRegistry(ctx context.Context, js jetstream.JetStream, bucket, origin string, replicas int,
	reg *registry.Registry, log *slog.Logger) (stop func(), err error) {
	if origin == "" {
		return nil, errors.New("sync registry: no node ID")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, History: 1, Replicas: max(replicas, 1)})
	if err != nil {
		return nil, fmt.Errorf("sync registry: bucket %s: %w", bucket, err)
	}
	s := newRegSync(kv, origin, reg, log, regQueueMax)
	return s.start(ctx, js.Conn())
}

// regSync is one registry shared through one bucket.
type regSync struct {
	kv     jetstream.KeyValue
	origin string
	reg    *registry.Registry
	log    *slog.Logger
	wake   chan struct{} // a put is queued, or the sync closed

	mu       sync.Mutex
	queue    []regRef             // guarded by mu; entries waiting for their put, in order
	queueMax int                  // guarded by mu; the bound of queue
	queued   map[string]bool      // guarded by mu; the keys in queue
	inflight string               // guarded by mu; the key being put, "" when none
	lastRev  map[string]uint64    // guarded by mu; key → the newest revision of it applied or put here
	seenRev  uint64               // guarded by mu; the newest revision the watch read
	held     map[string]regUpdate // guarded by mu; key → the newest change of another node read while one of ours waits for its put
	closed   bool                 // guarded by mu; no more puts queued: the queue drains
	dropped  uint64               // guarded by mu; changes not queued: the queue was full
	failed   uint64               // guarded by mu; puts given up
	dropping bool                 // guarded by mu; the last change was dropped: the next one queued says so
}

// regRef names an entry and its key in the bucket.
type regRef struct{ kind, key, k string }

// regUpdate is a change of another node, read from the bucket.
type regUpdate struct {
	rev    uint64
	change registry.Change
}

func newRegSync(kv jetstream.KeyValue, origin string, reg *registry.Registry, log *slog.Logger, queueMax int) *regSync {
	return &regSync{kv: kv, origin: origin, reg: reg, log: log, queueMax: queueMax, wake: make(chan struct{}, 1),
		queued: map[string]bool{}, lastRev: map[string]uint64{}, held: map[string]regUpdate{}}
}

// start loads the bucket into reg, seeds it, and starts the watch and the
// puts.
func (s *regSync) start(ctx context.Context, nc *nats.Conn) (stop func(), err error) {
	s.reg.OnChange(s.changed)
	putCtx, cancelPuts := context.WithCancel(context.WithoutCancel(ctx))
	putsDone := make(chan struct{})
	go func() {
		defer close(putsDone)
		s.putLoop(putCtx)
	}()
	endPuts := func() {
		s.reg.OnChange(nil)
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.signal()
		t := time.AfterFunc(regDrainTimeout, cancelPuts)
		<-putsDone
		t.Stop()
		cancelPuts()
		s.mu.Lock()
		if len(s.queue) > 0 || s.dropped > 0 || s.failed > 0 {
			s.log.Warn("registry sync stopped with changes not shared",
				"unsent", len(s.queue), "dropped", s.dropped, "failed", s.failed)
		}
		s.mu.Unlock()
	}

	watchCtx, cancelWatch := context.WithCancel(context.WithoutCancel(ctx))
	reconnects := nc.Stats().Reconnects
	w, err := s.kv.WatchAll(watchCtx)
	if err != nil {
		cancelWatch()
		endPuts()
		return nil, fmt.Errorf("sync registry: watch: %w", err)
	}
	seen, err := s.load(ctx, w)
	if err != nil {
		endWatch(w)
		cancelWatch()
		endPuts()
		return nil, err
	}
	var seed []regRef
	for _, c := range s.reg.Entries() {
		if k := regKey(c.Kind, c.Key); !seen[k] {
			seed = append(seed, regRef{c.Kind, c.Key, k})
		}
	}
	s.mu.Lock()
	s.queueMax += len(seed) // the seed, however large, and room for changes beside it
	s.mu.Unlock()
	for _, r := range seed {
		s.enqueue(r)
	}
	quit, watchDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watchDone)
		s.watch(watchCtx, nc, reconnects, w, quit)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			<-watchDone
			cancelWatch()
			endPuts()
		})
	}, nil
}

// watch applies the other nodes' changes until quit is closed. After a
// reconnection it starts a new watch from the revision after the last it
// read: the old one's consumer may be gone.
func (s *regSync) watch(ctx context.Context, nc *nats.Conn, reconnects uint64, w jetstream.KeyWatcher, quit <-chan struct{}) {
	defer func() { endWatch(w) }()
	tick := time.NewTicker(regWatchCheck)
	defer tick.Stop()
	updates := w.Updates()
	for {
		select {
		case e, ok := <-updates:
			switch {
			case !ok: // the connection closed: nothing comes any more
				updates = nil
			case e != nil: // nil: the end of the values it started with
				s.handle(e, false)
			}
		case <-tick.C:
			n := nc.Stats().Reconnects
			if n == reconnects {
				continue
			}
			s.mu.Lock()
			from := s.seenRev + 1
			s.mu.Unlock()
			w2, err := s.kv.WatchAll(ctx, jetstream.IncludeHistory(), jetstream.ResumeFromRevision(from))
			if err != nil {
				s.log.Warn("registry sync: watch again after a reconnection", "err", err)
				continue // at the next tick
			}
			endWatch(w) // what it still holds, the new one reads again
			w, updates, reconnects = w2, w2.Updates(), n
		case <-quit:
			return
		}
	}
}

// endWatch stops a watch and waits for the end of its subscription.
func endWatch(w jetstream.KeyWatcher) {
	_ = w.Stop()
	for range w.Updates() { // until the subscription ends and closes it
	}
}

// load applies every entry of the bucket, up to the watch's mark of its
// end; it returns the keys it read.
func (s *regSync) load(ctx context.Context, w jetstream.KeyWatcher) (map[string]bool, error) {
	seen := map[string]bool{}
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("sync registry: the watch ended while loading the bucket")
			}
			if e == nil {
				return seen, nil
			}
			seen[e.Key()] = true
			s.handle(e, true)
		case <-ctx.Done():
			return nil, fmt.Errorf("sync registry: load the bucket: %w", ctx.Err())
		}
	}
}

// handle applies an entry read from the bucket, unless reg has a newer
// one: this node's own (its own writes are skipped, except in the initial
// load, where the bucket wins), or one of this node's waiting for its put
// (then the update is held until the put's revision says which is newer).
func (s *regSync) handle(e jetstream.KeyValueEntry, initial bool) {
	kind, key, err := parseRegKey(e.Key())
	if err != nil {
		s.log.Warn("registry sync: skipped an entry", "err", err)
		return
	}
	var v regValue
	if e.Operation() == jetstream.KeyValuePut {
		if err := json.Unmarshal(e.Value(), &v); err != nil {
			s.log.Warn("registry sync: skipped an unreadable entry", "key", e.Key(), "err", err)
			return
		}
	}
	u := regUpdate{rev: e.Revision(), change: registry.Change{Kind: kind, Key: key, Value: v.Value}}
	k := e.Key()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seenRev = max(s.seenRev, u.rev)
	switch {
	case u.rev <= s.lastRev[k]:
	case !initial && v.Origin == s.origin:
		s.lastRev[k] = u.rev
	case s.queued[k] || s.inflight == k:
		if u.rev > s.held[k].rev {
			s.held[k] = u
		}
	default:
		s.apply(k, u)
	}
}

// apply sets an entry of another node in reg. mu must be held.
func (s *regSync) apply(k string, u regUpdate) {
	s.lastRev[k] = u.rev
	if err := s.reg.Apply(u.change); err != nil {
		s.log.Warn("registry sync: refused another node's change", "key", k, "err", err)
	}
}

// changed is reg's OnChange: the entry is queued for its put.
func (s *regSync) changed(c registry.Change) {
	s.enqueue(regRef{c.Kind, c.Key, regKey(c.Kind, c.Key)})
}

// enqueue queues an entry for its put, unless it is queued already (its
// put sends it as it is then).
func (s *regSync) enqueue(r regRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed, s.queued[r.k]:
		return
	case len(s.queue) >= s.queueMax:
		s.dropped++
		if !s.dropping {
			s.log.Warn("registry sync: the queue of puts is full; changes are dropped", "queue", s.queueMax, "dropped", s.dropped)
		}
		s.dropping = true
		return
	case s.dropping:
		s.log.Warn("registry sync: the queue of puts has room again", "dropped", s.dropped)
		s.dropping = false
	}
	s.queue = append(s.queue, r)
	s.queued[r.k] = true
	s.signal()
}

func (s *regSync) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// putLoop puts the queued entries, in order, until the sync is closed and
// the queue empty, or ctx ends.
func (s *regSync) putLoop(ctx context.Context) {
	for {
		r, ok := s.next(ctx)
		if !ok {
			return
		}
		rev, err := s.put(ctx, r)
		s.sent(r.k, rev, err)
	}
}

// next takes the first entry of the queue, waiting for one.
func (s *regSync) next(ctx context.Context) (regRef, bool) {
	for {
		s.mu.Lock()
		if ctx.Err() == nil && len(s.queue) > 0 {
			r := s.queue[0]
			s.queue = s.queue[1:]
			delete(s.queued, r.k)
			s.inflight = r.k
			s.mu.Unlock()
			return r, true
		}
		closed := s.closed
		s.mu.Unlock()
		if closed || ctx.Err() != nil {
			return regRef{}, false
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
		}
	}
}

// put sends the entry as it is now, trying again a few times.
func (s *regSync) put(ctx context.Context, r regRef) (uint64, error) {
	data, err := json.Marshal(regValue{Origin: s.origin, Value: s.reg.Entry(r.kind, r.key).Value})
	if err != nil {
		return 0, err
	}
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, regPutTimeout)
		rev, err := s.kv.Put(pctx, r.k, data)
		cancel()
		if err == nil || attempt == regPutAttempts {
			return rev, err
		}
		select {
		case <-time.After(wait):
			wait *= 2
		case <-ctx.Done():
			return 0, err
		}
	}
}

// sent ends a put: an update of another node held meanwhile is applied if
// it is newer than the put, unless the entry changed again here.
func (s *regSync) sent(k string, rev uint64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight = ""
	if err != nil {
		s.failed++
		s.log.Error("registry sync: a change is not shared", "key", k, "failed", s.failed, "err", err)
	} else {
		s.lastRev[k] = max(s.lastRev[k], rev)
	}
	if s.queued[k] {
		return
	}
	if u, ok := s.held[k]; ok {
		delete(s.held, k)
		if u.rev > s.lastRev[k] {
			s.apply(k, u)
		}
	}
}
