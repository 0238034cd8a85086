package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Liveness keys of the nodes bucket, and their KV headers.
const (
	hbPrefix       = "hb."
	sessionsPrefix = "sessions."
	kvOpHeader     = "KV-Operation" // how nats.go marks a deleted key
	kvOpDelete     = "DEL"
	// sessionsDebounce gathers the session changes of a moment into one
	// write of the sessions key.
	sessionsDebounce = 100 * time.Millisecond
	// maxPendingBeats bounds the heartbeats remembered whose ack was lost.
	maxPendingBeats = 32
)

// heartbeat is the value of hb.<node>. What matters to the others is that
// it changes; the fields are for a person looking at the bucket.
type heartbeat struct {
	Node     string `json:"node"`
	UnixMs   int64  `json:"unixMs"`
	Sessions int    `json:"sessions"`
}

// liveness is what StartLiveness was given.
type liveness struct {
	sessions func() Snapshot
	gone     func(node string)
	fenced   func()
	changed  chan struct{} // cap 1: SessionsChanged
}

// StartLiveness starts the node's heartbeat and its watch of the others.
//
// Every Heartbeat the node writes hb.<node> (a compare-and-set on its own
// last revision) and, when SessionsChanged says so, sessions.<node> (the
// JSON of sessions()). It watches the heartbeats of the others: a node
// whose key has not changed for the TTL (by this node's clock) is gone;
// this node then tries to delete its key, on condition that it is still at
// the revision it saw. Only the node whose delete succeeds calls gone(node),
// then deletes sessions.<node>: gone is called once in the cluster for a
// death. gone is called from the watch goroutine, which Close waits for: it
// must not call Close.
//
// The node is fenced when it cannot write its heartbeat for the TTL or
// when another node deleted or changed its key: fenced is then called
// once, on a goroutine of its own (it may call Close), heartbeats stop,
// and Healthy and Publish return errors wrapping ErrFenced until Close.
// StartLiveness does its work in goroutines and returns at once; a second
// call does nothing.
func (n *Node) StartLiveness(sessions func() Snapshot, gone func(node string), fenced func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.live != nil || n.ctx.Err() != nil {
		return
	}
	l := &liveness{sessions: sessions, gone: gone, fenced: fenced, changed: make(chan struct{}, 1)}
	n.live = l
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		n.beat(l)
	}()
	go func() {
		defer n.wg.Done()
		n.watch(l)
	}()
}

// SessionsChanged tells the node that its sessions changed: sessions.<node>
// is written again within about 100 ms, once for a burst of changes.
func (n *Node) SessionsChanged() {
	n.mu.Lock()
	l := n.live
	n.mu.Unlock()
	if l == nil {
		return
	}
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// fence marks the node fenced, once, and says why.
func (n *Node) fence(l *liveness, why string) {
	n.fenceOnce.Do(func() {
		close(n.fenced)
		n.log.Error("cluster: this node is fenced: it ends its sessions, which may reconnect to another node", "why", why)
		if l.fenced != nil {
			go l.fenced()
		}
	})
}

// writeTimeout bounds one write of the liveness keys: longer than a
// heartbeat (a slow write delays the next one, which is fine), short enough
// to notice the TTL pass.
func (n *Node) writeTimeout() time.Duration { return max(n.cfg.Heartbeat, n.cfg.TTL/3) }

// beater is the state of the heartbeat goroutine.
type beater struct {
	n       *Node
	l       *liveness
	key     string
	rev     uint64    // revision of the last heartbeat acknowledged; 0: none yet
	lastOK  time.Time // when it was acknowledged (or the start)
	pending []string  // Nats-Msg-Ids of heartbeats sent since, whose ack was lost
	count   uint64    // heartbeats sent, for their Nats-Msg-Id
}

// beat writes the heartbeat every Heartbeat and the sessions key when they
// changed, until the node closes or is fenced.
func (n *Node) beat(l *liveness) {
	// Heartbeat Nats-Msg-Ids count from the start time too (see Node.msgs).
	b := &beater{n: n, l: l, key: hbPrefix + n.cfg.Node, lastOK: time.Now(), count: uint64(time.Now().UnixMicro())}
	tick := time.NewTicker(n.cfg.Heartbeat)
	defer tick.Stop()
	var debounce <-chan time.Time
	dirty := true // sessions.<node> is to be written
	due := true   // a heartbeat is due
	for {
		if due && b.beat() && dirty {
			dirty = !n.putSessions(l) // a failed write is tried again at the next heartbeat
		}
		due = false
		select {
		case <-n.ctx.Done():
			return
		case <-n.fenced:
			return
		case <-tick.C:
			due = true
		case <-l.changed:
			if debounce == nil {
				debounce = time.After(sessionsDebounce)
			}
		case <-debounce:
			debounce = nil
			dirty = !n.putSessions(l)
		}
	}
}

// beat writes one heartbeat and reports whether it was acknowledged.
func (b *beater) beat() bool {
	n := b.n
	sessions := 0
	if b.l.sessions != nil {
		sessions = len(b.l.sessions().Sessions)
	}
	body, _ := json.Marshal(heartbeat{Node: n.cfg.Node, UnixMs: time.Now().UnixMilli(), Sessions: sessions})
	ctx, cancel := context.WithTimeout(n.ctx, n.writeTimeout())
	defer cancel()
	rev, err := b.write(ctx, body)
	if err == nil {
		first := b.rev == 0
		b.rev, b.lastOK, b.pending = rev, time.Now(), b.pending[:0]
		if first {
			n.firstBeat.Store(rev)
		}
		n.obs.Heartbeat(true)
		return true
	}
	if n.ctx.Err() != nil || n.isFenced() {
		return false
	}
	n.obs.Heartbeat(false)
	silent := time.Since(b.lastOK)
	n.log.Warn("cluster: heartbeat failed", "err", err, "silentFor", silent.Round(time.Millisecond), "ttl", n.cfg.TTL)
	if silent >= n.cfg.TTL {
		n.fence(b.l, fmt.Sprintf("its heartbeat failed for %s (the node TTL): %v", silent.Round(time.Millisecond), err))
	}
	return false
}

// write stores one heartbeat: a put the first time, then a compare-and-set
// on the revision of the last one, so that a key deleted or changed by
// another node is noticed. A heartbeat whose ack was lost may have been
// stored: when the revision is not the expected one, the key's last
// message is ours if it has the Nats-Msg-Id of such a heartbeat, and the
// write is tried again on it.
func (b *beater) write(ctx context.Context, body []byte) (uint64, error) {
	n := b.n
	for {
		b.count++
		id := n.cfg.Node + "-hb-" + strconv.FormatUint(b.count, 10)
		ack, err := n.kvPublish(ctx, b.key, body, id, b.rev, b.rev != 0, "")
		if err == nil {
			return ack.Sequence, nil
		}
		if !isWrongLastSeq(err) {
			if len(b.pending) == maxPendingBeats {
				b.pending = b.pending[1:]
			}
			b.pending = append(b.pending, id)
			return 0, err
		}
		last, err := n.nodesS.GetLastMsgForSubject(ctx, n.kvSubject(b.key))
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			n.fence(b.l, "its heartbeat key was deleted by another node")
			return 0, ErrFenced
		case err != nil:
			return 0, fmt.Errorf("read own heartbeat key: %w", err)
		case last.Header.Get(kvOpHeader) != "":
			n.fence(b.l, "its heartbeat key was deleted by another node")
			return 0, ErrFenced
		case !slices.Contains(b.pending, last.Header.Get(jetstream.MsgIDHeader)):
			n.fence(b.l, "its heartbeat key was changed by someone else")
			return 0, ErrFenced
		case last.Sequence <= b.rev:
			return 0, fmt.Errorf("own heartbeat key at revision %d, expected after %d", last.Sequence, b.rev)
		}
		// Our own heartbeat, stored though its ack was lost: go on from it.
		b.rev = last.Sequence
	}
}

// kvSubject is the subject of key in the nodes bucket.
func (n *Node) kvSubject(key string) string { return "$KV." + n.names.nodes + "." + key }

// kvPublish writes key of the nodes bucket as nats.go's KV does, with a
// Nats-Msg-Id: body, or a delete marker when op is kvOpDelete. With cas,
// the write is refused unless the key's last revision is rev (0: absent).
func (n *Node) kvPublish(ctx context.Context, key string, body []byte, id string, rev uint64, cas bool, op string) (*jetstream.PubAck, error) {
	m := &nats.Msg{Subject: n.kvSubject(key), Header: nats.Header{}, Data: body}
	m.Header.Set(jetstream.MsgIDHeader, id)
	if cas {
		m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(rev, 10))
	}
	if op != "" {
		m.Header.Set(kvOpHeader, op)
	}
	return n.publishMsg(ctx, m, jetstream.WithExpectStream(n.names.nodesKV))
}

// isWrongLastSeq reports whether err is a compare-and-set refused.
func isWrongLastSeq(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}

// putSessions writes sessions.<node> and reports whether it worked.
func (n *Node) putSessions(l *liveness) bool {
	var snap Snapshot
	if l.sessions != nil {
		snap = l.sessions()
	}
	if snap.Sessions == nil {
		snap.Sessions = []Session{}
	}
	body, err := json.Marshal(snap)
	if err != nil {
		n.log.Error("cluster: encode sessions", "err", err)
		return true
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.writeTimeout())
	defer cancel()
	if _, err := n.nodes.Put(ctx, sessionsPrefix+n.cfg.Node, body); err != nil {
		if n.ctx.Err() == nil {
			n.log.Warn("cluster: write this node's sessions", "err", err)
		}
		return false
	}
	return true
}

// peer is what the watch knows of another node.
type peer struct {
	rev     uint64    // revision of its last heartbeat seen
	changed time.Time // local time that revision was first seen
	lost    uint64    // a revision this node failed to delete: no new try before it changes
	unsure  uint64    // a revision a delete was sent for, its outcome unknown; 0: none
	deleted bool      // its key was deleted (kept while unsure)
}

// watch follows every heartbeat until the node closes or is fenced, and
// declares gone the nodes silent for the TTL.
func (n *Node) watch(l *liveness) {
	peers := map[string]*peer{} // owned by this goroutine
	backoff := minBackoff
	pause := func() {
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-n.ctx.Done():
		case <-n.fenced:
		}
		t.Stop()
		backoff = min(2*backoff, maxBackoff)
	}
	for n.ctx.Err() == nil && !n.isFenced() {
		// The watcher ends with its context: nats.go then deletes its
		// consumer on a goroutine of its own, which a lost connection
		// would block for seconds.
		wctx, wcancel := context.WithCancel(n.ctx)
		w, err := n.nodes.Watch(wctx, hbPrefix+">")
		if err != nil {
			wcancel()
			if n.ctx.Err() == nil {
				n.log.Warn("cluster: cannot watch the heartbeats, trying again", "err", err)
			}
			pause()
			continue
		}
		start := time.Now()
		n.watchUpdates(l, w, peers)
		wcancel()
		if time.Since(start) > n.cfg.TTL {
			backoff = minBackoff
		}
		if n.ctx.Err() == nil && !n.isFenced() {
			n.log.Warn("cluster: the watch of the heartbeats ended, watching again")
			pause()
		}
	}
}

// watchUpdates takes the updates of one watcher, and looks for silent
// nodes every Heartbeat, until the watcher ends, the node closes or is
// fenced.
func (n *Node) watchUpdates(l *liveness, w jetstream.KeyWatcher, peers map[string]*peer) {
	tick := time.NewTicker(n.cfg.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-n.fenced:
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e != nil { // nil: the current values are all given
				n.seen(l, e, peers)
			}
		case now := <-tick.C:
			for node, p := range peers {
				n.check(l, node, p, peers, now)
			}
		}
	}
}

// seen records one update of a heartbeat key.
func (n *Node) seen(l *liveness, e jetstream.KeyValueEntry, peers map[string]*peer) {
	node := strings.TrimPrefix(e.Key(), hbPrefix)
	deleted := e.Operation() != jetstream.KeyValuePut
	if node == n.cfg.Node {
		// A deletion older than this run's first heartbeat is a former run's.
		if first := n.firstBeat.Load(); deleted && first != 0 && e.Revision() > first {
			n.fence(l, "its heartbeat key was deleted by another node")
		}
		return
	}
	p := peers[node]
	switch {
	case deleted && p != nil && p.unsure != 0:
		p.deleted = true // maybe by this node: check will tell
	case deleted:
		delete(peers, node)
	case p == nil:
		peers[node] = &peer{rev: e.Revision(), changed: time.Now()}
	case e.Revision() > p.rev:
		p.rev, p.changed, p.deleted = e.Revision(), time.Now(), false
	}
}

// check declares node gone if it has been silent for the TTL and this node
// wins the delete of its key.
func (n *Node) check(l *liveness, node string, p *peer, peers map[string]*peer, now time.Time) {
	rev := p.unsure // a delete to settle first, at the revision it was sent for
	if rev == 0 {
		if p.deleted || p.lost == p.rev || now.Sub(p.changed) < n.cfg.TTL {
			return
		}
		rev = p.rev
	}
	won, err := n.reap(node, rev)
	switch {
	case err != nil:
		if p.unsure == 0 {
			n.log.Warn("cluster: cannot delete the heartbeat of a silent node, trying again", "peer", node, "err", err)
		}
		p.unsure = rev
		return
	case !won:
		p.unsure, p.lost = 0, rev
		if p.deleted {
			delete(peers, node)
		}
		return
	}
	delete(peers, node)
	n.log.Warn("cluster: node gone: its heartbeat stopped", "peer", node, "silentFor", now.Sub(p.changed).Round(time.Millisecond))
	if l.gone != nil {
		l.gone(node)
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.TTL)
	defer cancel()
	if err := n.nodes.Delete(ctx, sessionsPrefix+node); err != nil {
		n.log.Warn("cluster: delete the sessions of a gone node", "peer", node, "err", err)
	}
}

// reap deletes hb.<node> on condition that its revision is still rev, and
// reports whether this node's delete is the one stored. A delete whose ack
// was lost is recognized by its Nats-Msg-Id when tried again.
func (n *Node) reap(node string, rev uint64) (bool, error) {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.TTL)
	defer cancel()
	key := hbPrefix + node
	id := n.cfg.Node + "-reap-" + node + "-" + strconv.FormatUint(rev, 10)
	_, err := n.kvPublish(ctx, key, nil, id, rev, true, kvOpDelete)
	if err == nil {
		return true, nil
	}
	if !isWrongLastSeq(err) {
		return false, err
	}
	last, err := n.nodesS.GetLastMsgForSubject(ctx, n.kvSubject(key))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil // purged: not by this node
	}
	if err != nil {
		return false, fmt.Errorf("read the heartbeat key of %s: %w", node, err)
	}
	return last.Header.Get(jetstream.MsgIDHeader) == id, nil
}

// leave deletes this node's heartbeat and sessions keys (Close).
func (n *Node) leave() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if !n.nc.IsConnected() {
		return fmt.Errorf("cluster: leave: %w", errUnreachable)
	}
	// No compare-and-delete: a heartbeat whose ack the stop cut short may
	// be stored, and a node reaping this one must fail its own.
	var errs []error
	if err := n.nodes.Delete(ctx, hbPrefix+n.cfg.Node); err != nil {
		errs = append(errs, fmt.Errorf("cluster: delete own heartbeat: %w", err))
	}
	if err := n.nodes.Delete(ctx, sessionsPrefix+n.cfg.Node); err != nil {
		errs = append(errs, fmt.Errorf("cluster: delete own sessions: %w", err))
	}
	return errors.Join(errs...)
}

// Peers returns sessions.<node> of every node with a heartbeat, this one
// excluded (an empty snapshot, AsOf 0, for a node that has written none
// yet).
func (n *Node) Peers(ctx context.Context) (map[string]Snapshot, error) {
	ctx, cancel := context.WithCancel(ctx) // ends the lister's watcher
	defer cancel()
	kl, err := n.nodes.ListKeysFiltered(ctx, hbPrefix+">")
	if err != nil {
		return nil, fmt.Errorf("cluster: list heartbeats: %w", err)
	}
	var live []string
	for k := range kl.Keys() {
		if node := strings.TrimPrefix(k, hbPrefix); node != n.cfg.Node {
			live = append(live, node)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cluster: list heartbeats: %w", err)
	}
	peers := make(map[string]Snapshot, len(live))
	for _, node := range live {
		list := Snapshot{Sessions: []Session{}}
		e, err := n.nodes.Get(ctx, sessionsPrefix+node)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
		case err != nil:
			return nil, fmt.Errorf("cluster: sessions of %s: %w", node, err)
		default:
			if err := json.Unmarshal(e.Value(), &list); err != nil {
				return nil, fmt.Errorf("cluster: sessions of %s: %w", node, err)
			}
		}
		peers[node] = list
	}
	return peers, nil
}
