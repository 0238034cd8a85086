package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sshchat/sshchat/hub"
)

// Delivery is one event of the stream, as Consume hands it over.
type Delivery struct {
	Event  hub.Event // Event.ID is the stream sequence
	Origin string    // the node that published it (Sshchat-Origin)
}

// consumerInactive is how long the server keeps an ordered consumer
// nobody pulls from (a node that died).
const consumerInactive = time.Minute

// pullHeartbeat is how often the server says it is there while it has
// nothing to deliver: two missed, and the ordered consumer is made again
// (a server that stopped, a consumer lost with it).
const pullHeartbeat = time.Second

// Consume reads the stream with one ordered consumer, from sequence from
// (0 is 1), and calls fn for every event in sequence order, from one
// goroutine owned by the node. It returns once the consumer runs; reading
// ends when ctx ends or the node is closed (Close waits for fn to return).
// Sequences the stream no longer holds (expired by its limits, purged or
// deleted) are reported (log and Observer.Gap) and skipped. After a
// reconnect or a reset of the consumer, reading goes on from the last
// delivered sequence + 1: nothing is delivered twice. A message that is
// not an event is logged and skipped. Consume may be called once per node.
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
	cctx, cancel := context.WithCancel(ctx)
	stopOnClose := context.AfterFunc(n.ctx, cancel)
	r := &orderedReader{js: n.js, stream: n.names.stream, filter: n.names.all, log: n.log, next: from}
	if err := r.open(cctx); err != nil {
		stopOnClose()
		cancel()
		n.mu.Lock()
		n.consuming = false
		n.mu.Unlock()
		return err
	}
	stopReader := context.AfterFunc(cctx, r.stop)
	c := &consumer{n: n, fn: fn, last: from - 1}
	n.consumeWG.Add(1)
	go func() {
		defer n.consumeWG.Done()
		defer cancel()
		defer stopOnClose()
		defer stopReader()
		for {
			msg, md, err := r.read(cctx)
			if err != nil {
				return // ctx ended
			}
			c.handle(msg, md)
		}
	}()
	return nil
}

// consumer is the state of Consume's goroutine.
type consumer struct {
	n    *Node
	fn   func(Delivery)
	last uint64 // the last sequence delivered or skipped
}

// handle delivers one message, reporting the sequences skipped before it.
func (c *consumer) handle(msg jetstream.Msg, md *jetstream.MsgMetadata) {
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

// orderedReader reads a stream in order through nats.go's ordered
// consumer, which makes its server-side consumer again after a reconnect
// or missed heartbeats. It is allowed one attempt at that: when it fails,
// the reader makes a new ordered consumer from the next sequence itself,
// with a pause that ends with ctx (nats.go's own retries wait up to 10 s
// and do not see a context, which would hold a stop back).
type orderedReader struct {
	js     jetstream.JetStream
	stream string
	filter string
	log    *slog.Logger
	next   uint64 // owned by the reading goroutine: the first sequence of a new consumer

	mu      sync.Mutex
	cons    jetstream.Consumer        // guarded by mu: the current consumer
	it      jetstream.MessagesContext // guarded by mu: its iterator
	stopped bool                      // guarded by mu: stop was called
}

// open makes an ordered consumer from r.next and its iterator.
func (r *orderedReader) open(ctx context.Context) error {
	cons, err := r.js.OrderedConsumer(ctx, r.stream, jetstream.OrderedConsumerConfig{
		// One filter: nats.go sends it as filter_subject, which 2.9 knows.
		FilterSubjects:    []string{r.filter},
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       r.next,
		InactiveThreshold: consumerInactive,
		MaxResetAttempts:  1,
	})
	if err != nil {
		return fmt.Errorf("cluster: consumer of %s from %d: %w", r.stream, r.next, err)
	}
	it, err := cons.Messages(jetstream.PullHeartbeat(pullHeartbeat))
	if err != nil {
		return fmt.Errorf("cluster: consume %s: %w", r.stream, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cons, r.it = cons, it
	if r.stopped {
		it.Stop()
	}
	return nil
}

// stop ends the current iterator, and any later one.
func (r *orderedReader) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	if r.it != nil {
		r.it.Stop()
	}
}

// consumer is the current ordered consumer.
func (r *orderedReader) consumer() jetstream.Consumer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cons
}

// read returns the next message and its metadata. When the iterator ends
// for another reason than ctx, it makes a new one from the sequence after
// the last read, until ctx ends. It returns ctx's error when ctx ends, and
// nats.ErrTimeout when opts' wait passes.
func (r *orderedReader) read(ctx context.Context, opts ...jetstream.NextOpt) (jetstream.Msg, *jetstream.MsgMetadata, error) {
	backoff := minBackoff
	for {
		r.mu.Lock()
		it := r.it
		r.mu.Unlock()
		msg, err := it.Next(opts...)
		if err == nil {
			md, merr := msg.Metadata()
			if merr != nil {
				r.log.Error("cluster: a message of the stream without metadata, skipped", "subject", msg.Subject(), "err", merr)
				continue
			}
			r.next = md.Sequence.Stream + 1
			return msg, md, nil
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if errors.Is(err, nats.ErrTimeout) {
			return nil, nil, err
		}
		r.log.Warn("cluster: the stream's consumer stopped, making it again", "next", r.next, "err", err)
		it.Stop()
		for {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, nil, ctx.Err()
			case <-t.C:
			}
			backoff = min(2*backoff, maxBackoff)
			if err := r.open(ctx); err != nil {
				r.log.Warn("cluster: cannot make the stream's consumer again", "next", r.next, "err", err)
				continue
			}
			break
		}
	}
}
