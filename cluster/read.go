package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sshchat/sshchat/hub"
)

// readIdle is how long Read waits for a message, without follow, before it
// asks whether any is left to read (the last ones may have been deleted).
const readIdle = 500 * time.Millisecond

// Read calls fn for every event of the stream from sequence from (0 is
// 1), in order, each with its ID set to its sequence: `sshchat log
// --nats`. It has its own connection and an ephemeral ordered consumer,
// and touches no node state: cfg.Node may be empty, and the stream must
// exist. Without follow it stops at the last sequence the stream had when
// Read started; with follow it waits for new events until ctx ends, and
// then returns nil. An error of fn ends Read and is returned.
func Read(ctx context.Context, cfg Config, from uint64, follow bool, fn func(hub.Event) error) error {
	cfg, err := cfg.withDefaults(false)
	if err != nil {
		return err
	}
	nm := namesOf(cfg.Cluster)
	closed := make(chan struct{})
	nc, err := dial(cfg, "sshchat log", closed)
	if err != nil {
		return err
	}
	defer func() {
		nc.Close()
		<-closed
	}()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("cluster: jetstream: %w", err)
	}
	st, err := js.Stream(ctx, nm.stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("cluster: no stream %s at %s: is the cluster name %q right? %w", nm.stream, redactURLs(cfg.URL), cfg.Cluster, err)
	}
	if err != nil {
		return fmt.Errorf("cluster: stream %s: %w", nm.stream, err)
	}
	last := st.CachedInfo().State.LastSeq
	if from == 0 {
		from = 1
	}
	if !follow && last < from {
		return nil
	}
	r := &orderedReader{js: js, stream: nm.stream, filter: nm.all, log: cfg.Logger, next: from}
	if err := r.open(ctx); err != nil {
		return err
	}
	defer r.stop()
	stop := context.AfterFunc(ctx, r.stop)
	defer stop()
	var opts []jetstream.NextOpt
	if !follow {
		opts = append(opts, jetstream.NextMaxWait(readIdle))
	}
	for {
		msg, md, err := r.read(ctx, opts...)
		switch {
		case ctx.Err() != nil && follow:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, nats.ErrTimeout):
			info, ierr := r.consumer().Info(ctx)
			if ierr != nil {
				return fmt.Errorf("cluster: read %s: %w", nm.stream, ierr)
			}
			if info.NumPending == 0 {
				return nil // the rest was deleted
			}
			continue
		case err != nil:
			return fmt.Errorf("cluster: read %s: %w", nm.stream, err)
		}
		seq := md.Sequence.Stream
		ev, err := decode(msg.Data(), seq)
		if err != nil {
			cfg.Logger.Warn("cluster: a message of the stream is not an event, skipped", "seq", seq, "err", err)
		} else if err := fn(ev); err != nil {
			return err
		}
		if !follow && (seq >= last || md.NumPending == 0) {
			return nil
		}
	}
}
