package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sshchat/sshchat/hub"
)

// Delivery is one event of the stream, as Consume hands it over.
type Delivery struct {
	Event  hub.Event // Event.ID is the stream sequence
	Origin string    // the node that published it (Sshchat-Origin)
}

// consumerInactive is how long the server keeps an ordered consumer
// nobody pulls from (a node that died): it is made again on a reset.
const consumerInactive = time.Minute

// pullHeartbeat is how often the server says it is there while it has
// nothing to deliver: two missed, and the ordered consumer is made again
// (a server that stopped, a consumer lost with it).
const pullHeartbeat = time.Second

// Consume reads the stream with one ordered consumer, from sequence from
// (0 is 1), and calls fn for every event in sequence order, from one
// goroutine owned by the node. It returns once the consumer runs; reading
// ends when ctx ends or the node is closed. Sequences the stream no longer
// holds (expired by its limits, purged or deleted) are reported (log and
// Observer.Gap) and skipped. After a reconnect or a reset of the consumer,
// reading goes on from the last delivered sequence + 1: nothing is
// delivered twice. A message that is not an event is logged and skipped.
// Consume may be called once per node.
func (n *Node) Consume(ctx context.Context, from uint64, fn func(Delivery)) error {
	n.mu.Lock()
	if n.consuming {
		n.mu.Unlock()
		return errors.New("cluster: the node already consumes the stream")
	}
	if n.ctx.Err() != nil {
		n.mu.Unlock()
		return errNodeClosed
	}
	n.consuming = true
	n.mu.Unlock()
	if from == 0 {
		from = 1
	}
	if last, err := n.LastSeq(ctx); err == nil && from > last+1 {
		n.log.Warn("cluster: the event log is ahead of the stream: events before the start are not read",
			"from", from, "streamLast", last)
	}
	c := &consumer{n: n, fn: fn, last: from - 1}
	cctx, cancel := context.WithCancel(ctx)
	stopOnClose := context.AfterFunc(n.ctx, cancel)
	it, err := c.open(cctx)
	if err != nil {
		stopOnClose()
		cancel()
		n.mu.Lock()
		n.consuming = false
		n.mu.Unlock()
		return err
	}
	c.it = it
	stopIt := context.AfterFunc(cctx, c.stop)
	n.consumeWG.Add(1)
	go func() {
		defer n.consumeWG.Done()
		defer cancel()
		defer stopOnClose()
		defer stopIt()
		c.run(cctx)
	}()
	return nil
}

// consumer is the state of Consume's goroutine.
type consumer struct {
	n    *Node
	fn   func(Delivery)
	last uint64 // owned by run: the last sequence delivered or skipped

	mu      sync.Mutex
	it      jetstream.MessagesContext // guarded by mu: the current iterator
	stopped bool                      // guarded by mu: stop was called
}

// open makes an ordered consumer from c.last+1 and its iterator.
func (c *consumer) open(ctx context.Context) (jetstream.MessagesContext, error) {
	cons, err := c.n.js.OrderedConsumer(ctx, c.n.names.stream, jetstream.OrderedConsumerConfig{
		// One filter: nats.go sends it as filter_subject, which 2.9 knows.
		FilterSubjects:    []string{c.n.names.all},
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       c.last + 1,
		InactiveThreshold: consumerInactive,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: consumer of %s from %d: %w", c.n.names.stream, c.last+1, err)
	}
	it, err := cons.Messages(jetstream.PullHeartbeat(pullHeartbeat))
	if err != nil {
		return nil, fmt.Errorf("cluster: consume %s: %w", c.n.names.stream, err)
	}
	return it, nil
}

// stop ends the current iterator, and any later one.
func (c *consumer) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	c.it.Stop()
}

// run delivers messages until ctx ends. The ordered consumer makes itself
// again after a reconnect or a missed heartbeat; if its iterator ends
// anyway, run makes a new one from c.last+1.
func (c *consumer) run(ctx context.Context) {
	backoff := minBackoff
	for {
		c.mu.Lock()
		it := c.it
		c.mu.Unlock()
		msg, err := it.Next()
		if err == nil {
			backoff = minBackoff
			c.handle(msg)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		c.n.log.Warn("cluster: the stream's consumer stopped, making it again", "next", c.last+1, "err", err)
		it.Stop()
		for {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, maxBackoff)
			nit, err := c.open(ctx)
			if err != nil {
				c.n.log.Warn("cluster: cannot make the stream's consumer again", "next", c.last+1, "err", err)
				continue
			}
			c.mu.Lock()
			c.it = nit
			if c.stopped {
				nit.Stop()
			}
			c.mu.Unlock()
			break
		}
	}
}

// handle delivers one message, reporting the sequences skipped before it.
func (c *consumer) handle(msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil {
		c.n.log.Error("cluster: a message of the stream without metadata, skipped", "subject", msg.Subject(), "err", err)
		return
	}
	seq := md.Sequence.Stream
	if seq <= c.last {
		// Not expected from an ordered consumer; never deliver twice.
		c.n.log.Debug("cluster: a sequence delivered again, skipped", "seq", seq, "last", c.last)
		return
	}
	if seq > c.last+1 {
		c.n.log.Warn("cluster: events missing from the stream (expired, purged or deleted), skipped",
			"from", c.last+1, "to", seq-1)
		c.n.obs.Gap(c.last+1, seq-1)
	}
	c.last = seq
	ev, err := decode(msg.Data(), seq)
	if err != nil {
		c.n.log.Error("cluster: a message of the stream is not an event, skipped", "seq", seq, "subject", msg.Subject(), "err", err)
		return
	}
	c.fn(Delivery{Event: ev, Origin: msg.Headers().Get(OriginHeader)})
	c.n.obs.Lag(md.NumPending)
}

// decode is the event of a message body stored at sequence seq.
func decode(body []byte, seq uint64) (hub.Event, error) {
	var ev hub.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return ev, fmt.Errorf("decode event %d: %w", seq, err)
	}
	ev.ID = int(seq)
	return ev, nil
}
