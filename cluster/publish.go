package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sshchat/sshchat/hub"
)

// DirectRoom is the room of direct messages; they travel on their own
// subject, sshchat.<C>.dm.
const DirectRoom = "@direct"

// Bounds of the pause between two attempts of a publish.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// subject is the subject of room's events, or an error if room cannot be
// one token of a subject.
func (n *Node) subject(room string) (string, error) {
	if room == DirectRoom {
		return n.names.prefix + "dm", nil
	}
	if !validToken(room) {
		return "", fmt.Errorf("cluster: room ID %q cannot be a NATS subject token", room)
	}
	return n.names.prefix + "room." + room, nil
}

// validToken reports whether s is one token of a NATS subject: not
// empty, no '.', no wildcard, no white space or control character.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r == '.' || r == '*' || r == '>' || unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return false
		}
	}
	return true
}

// Publish stores ev in the stream and returns it with its ID: the stream
// sequence. The body is ev as JSON with ID 0, sent with the headers
// Nats-Msg-Id (<node>-<counter>, the counter from the node's start time
// in microseconds) and Sshchat-Origin. A failed attempt is
// retried with the same Nats-Msg-Id, after a pause from 50 ms doubling up
// to 1 s, until the stream acknowledges it (an attempt that was stored but
// whose ack was lost is then acknowledged as a duplicate, with its first
// sequence), ctx ends, the node is fenced or closed.
func (n *Node) Publish(ctx context.Context, ev hub.Event) (hub.Event, error) {
	subject, err := n.subject(ev.ChatRoomID)
	if err != nil {
		return ev, err
	}
	ev.ID = 0
	body, err := json.Marshal(ev)
	if err != nil {
		return ev, fmt.Errorf("cluster: encode event: %w", err)
	}
	id := n.cfg.Node + "-" + strconv.FormatUint(n.msgs.Add(1), 10)
	start := time.Now()
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		if err := n.publishable(); err != nil {
			return ev, err
		}
		m := &nats.Msg{Subject: subject, Header: nats.Header{}, Data: body}
		m.Header.Set(jetstream.MsgIDHeader, id)
		m.Header.Set(OriginHeader, n.cfg.Node)
		actx, cancel := context.WithTimeout(ctx, n.attemptTimeout)
		ack, err := n.publishMsg(actx, m, jetstream.WithExpectStream(n.names.stream))
		cancel()
		if err == nil {
			n.obs.Published(time.Since(start))
			if attempt > 1 {
				n.log.Info("cluster: event published after retries", "msgId", id, "attempts", attempt, "duplicate", ack.Duplicate)
			}
			ev.ID = int(ack.Sequence)
			return ev, nil
		}
		if ctx.Err() != nil {
			return ev, fmt.Errorf("cluster: publish %s: %w", id, ctx.Err())
		}
		if permanent(err) {
			return ev, fmt.Errorf("cluster: publish %s: %w", id, err)
		}
		if attempt == 1 {
			n.log.Warn("cluster: publish failed, retrying", "msgId", id, "err", err)
		} else {
			n.log.Debug("cluster: publish failed again", "msgId", id, "attempt", attempt, "err", err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-n.ctx.Done():
		case <-n.fenced:
		}
		t.Stop()
		backoff = min(2*backoff, maxBackoff)
	}
}

// publishable returns why nothing may be published now: the node is
// fenced or closed.
func (n *Node) publishable() error {
	if n.isFenced() {
		return errNodeFenced
	}
	if n.ctx.Err() != nil {
		return errNodeClosed
	}
	return nil
}

// permanent reports whether retrying err cannot help: the message is
// refused for what it is, not for the state of the cluster.
func permanent(err error) bool {
	if errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, nats.ErrBadSubject) || errors.Is(err, nats.ErrBadHeaderMsg) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jetstream.JSErrCodeStreamMessageExceedsMaximum, errCodeStreamNotMatch:
			return true
		}
	}
	return false
}

// errCodeStreamNotMatch: the subject is another stream's than the one
// expected (JetStream's JSStreamNotMatchErr).
const errCodeStreamNotMatch jetstream.ErrorCode = 10060
