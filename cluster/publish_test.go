package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/internal/natstest"
)

func TestPublishConsumeTwoNodes(t *testing.T) {
	s := natstest.Run(t)
	testPublishConsume(t, s.URL())
}

// testPublishConsume: two nodes publish at once; both read the same
// events in the same order, IDs are the sequences 1..N, each event says
// which node published it, and direct messages go on their own subject.
func testPublishConsume(t *testing.T, url string) {
	const perNode = 15
	a := connect(t, url, "pc", "node-a")
	b := connect(t, url, "pc", "node-b")
	ca, cb := consume(t, a, 1), consume(t, b, 1)

	ctx := testCtx(t)
	var mu sync.Mutex
	origin := map[int]string{} // ID → publisher
	text := map[int]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 2*perNode+1)
	for _, n := range []*testNode{a, b} {
		wg.Go(func() {
			for i := range perNode {
				want := fmt.Sprintf("%s says %d", n.ID(), i)
				ev, err := n.Publish(ctx, message("lobby", n.ID(), want))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if prev, dup := origin[ev.ID]; dup {
					errs <- fmt.Errorf("ID %d given twice (%s and %s)", ev.ID, prev, n.ID())
				}
				origin[ev.ID], text[ev.ID] = n.ID(), want
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	dm := hub.Event{ChatRoomID: DirectRoom, Type: hub.EventTypeDirect, UserID: "u1", To: "u2", Message: "psst", UnixTime: 1}
	dmEv, err := a.Publish(ctx, dm)
	if err != nil {
		errs <- err
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := uint64(2*perNode + 1)
	if dmEv.ID != int(total) {
		t.Fatalf("direct message ID %d, want %d", dmEv.ID, total)
	}
	origin[dmEv.ID], text[dmEv.ID] = a.ID(), "psst"

	waitFor(t, "every event delivered to both nodes", func() bool {
		return ca.len() >= int(total) && cb.len() >= int(total)
	})
	gotA, gotB := ca.all(), cb.all()
	checkSequence(t, gotA, 1, total)
	checkSequence(t, gotB, 1, total)
	for i := range gotA {
		da, db := gotA[i], gotB[i]
		if da != db {
			t.Fatalf("delivery %d differs between the nodes:\n%+v\n%+v", i, da, db)
		}
		if da.Origin != origin[da.Event.ID] || da.Event.Message != text[da.Event.ID] {
			t.Fatalf("delivery %d: origin %q message %q, want %q %q", da.Event.ID, da.Origin, da.Event.Message, origin[da.Event.ID], text[da.Event.ID])
		}
	}
	if got := gotA[total-1].Event; got.Type != hub.EventTypeDirect || got.To != "u2" || got.ChatRoomID != DirectRoom {
		t.Fatalf("direct message delivered as %+v", got)
	}
	st, err := a.JetStream().Stream(ctx, "SSHCHAT_PC")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := st.GetMsg(ctx, total)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Subject != "sshchat.pc.dm" || raw.Header.Get(OriginHeader) != a.ID() || !strings.HasPrefix(raw.Header.Get(jetstream.MsgIDHeader), a.ID()+"-") {
		t.Fatalf("direct message stored on %q with headers %v", raw.Subject, raw.Header)
	}
	if strings.Contains(string(raw.Data), `"id":`+fmt.Sprint(total)) {
		t.Fatalf("the body carries the ID: %s", raw.Data)
	}
	if raw, err = st.GetMsg(ctx, 1); err != nil || !strings.HasPrefix(raw.Subject, "sshchat.pc.room.lobby") {
		t.Fatalf("event 1 stored on %q (%v)", raw.Subject, err)
	}
	// One filter, sent as filter_subject: a 2.9 server ignores filter_subjects.
	consumers := 0
	for info := range st.ListConsumers(ctx).Info() {
		consumers++
		if info.Config.FilterSubject != "sshchat.pc.>" || len(info.Config.FilterSubjects) != 0 {
			t.Fatalf("consumer %s filters %q and %q, want filter_subject sshchat.pc.> alone", info.Name, info.Config.FilterSubject, info.Config.FilterSubjects)
		}
	}
	if consumers != 2 {
		t.Fatalf("%d consumers on the stream, want one per node", consumers)
	}
	if last, err := a.LastSeq(ctx); err != nil || last != total {
		t.Fatalf("LastSeq %d, %v; want %d", last, err, total)
	}
	if got := a.obs.get(func(r *recorder) int { return r.published }); got != perNode+1 {
		t.Fatalf("observer saw %d publishes of node a, want %d", got, perNode+1)
	}
	if got := b.obs.get(func(r *recorder) int { return r.lags }); got != int(total) {
		t.Fatalf("observer saw %d lags of node b, want %d", got, total)
	}
	if a.Healthy() != nil || b.Healthy() != nil {
		t.Fatalf("unhealthy: %v, %v", a.Healthy(), b.Healthy())
	}
}

func TestPublishRefusesBadRoom(t *testing.T) {
	s := natstest.Run(t)
	a := connect(t, s.URL(), "bad", "a")
	for _, room := range []string{"", "a.b", "x>", "two words"} {
		if _, err := a.Publish(testCtx(t), message(room, "u", "hi")); err == nil {
			t.Errorf("room %q published", room)
		}
	}
}

// TestDuplicateMsgIDStoredOnce: the stream's dedupe, which Publish's
// retries rely on, stores a message once per Nats-Msg-Id.
func TestDuplicateMsgIDStoredOnce(t *testing.T) {
	s := natstest.Run(t)
	a := connect(t, s.URL(), "dup", "a")
	js := rawJS(t, s.URL())
	ctx := testCtx(t)
	var acks []*jetstream.PubAck
	for range 2 {
		m := nats.NewMsg("sshchat.dup.room.lobby")
		m.Header.Set(jetstream.MsgIDHeader, "a-1")
		m.Data = []byte(`{"chatroomId":"lobby","type":"message"}`)
		ack, err := js.PublishMsg(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, ack)
	}
	if acks[0].Duplicate || !acks[1].Duplicate || acks[0].Sequence != acks[1].Sequence {
		t.Fatalf("acks %+v %+v: want the second a duplicate of the first", acks[0], acks[1])
	}
	checkStreamMsgs(t, a, 1)
}

// TestPublishRetryKeepsMsgID: an attempt stored whose ack is lost is
// tried again with the same Nats-Msg-Id; the stream keeps one message and
// Publish returns its sequence.
func TestPublishRetryKeepsMsgID(t *testing.T) {
	s := natstest.Run(t)
	a := connect(t, s.URL(), "retry", "a")
	real := a.publishMsg
	var ids []string
	a.publishMsg = func(ctx context.Context, m *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
		ids = append(ids, m.Header.Get(jetstream.MsgIDHeader))
		ack, err := real(ctx, m, opts...)
		if len(ids) <= 2 && err == nil {
			return nil, errors.New("test: ack lost")
		}
		return ack, err
	}
	ctx := testCtx(t)
	ev, err := a.Publish(ctx, message("lobby", "u", "once"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != 1 || len(ids) != 3 || !strings.HasPrefix(ids[0], "a-") || ids[1] != ids[0] || ids[2] != ids[0] {
		t.Fatalf("ID %d after attempts with msg IDs %v; want ID 1 after 3 attempts with one a-<counter>", ev.ID, ids)
	}
	checkStreamMsgs(t, a, 1)
	ev, err = a.Publish(ctx, message("lobby", "u", "next"))
	first, _ := strconv.ParseUint(strings.TrimPrefix(ids[0], "a-"), 10, 64)
	if want := fmt.Sprintf("a-%d", first+1); err != nil || ev.ID != 2 || ids[len(ids)-1] != want {
		t.Fatalf("next publish: ID %d, %v, msg ID %q; want 2 with %s", ev.ID, err, ids[len(ids)-1], want)
	}
	if !strings.Contains(a.log.String(), "publish failed, retrying") {
		t.Fatal("the retry is not logged")
	}
}

// TestPublishEndsWithContext: a publish that cannot get an ack returns
// when its context ends.
func TestPublishEndsWithContext(t *testing.T) {
	s := natstest.Run(t)
	a := connect(t, s.URL(), "ctx", "a")
	a.publishMsg = func(ctx context.Context, _ *nats.Msg, _ ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := a.Publish(ctx, message("lobby", "u", "never"))
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func checkStreamMsgs(t *testing.T, n *testNode, want uint64) {
	t.Helper()
	st, err := n.JetStream().Stream(testCtx(t), n.names.stream)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CachedInfo().State.Msgs; got != want {
		t.Fatalf("the stream holds %d messages, want %d", got, want)
	}
}

// TestRestartedNodeKeepsPublishing: a node started again with the same ID
// within the duplicate window gets new Nats-Msg-Ids: its events are
// stored, not taken for the former run's.
func TestRestartedNodeKeepsPublishing(t *testing.T) {
	s := natstest.Run(t)
	ctx := testCtx(t)
	for run := 1; run <= 2; run++ {
		a := connect(t, s.URL(), "again", "a")
		ev, err := a.Publish(ctx, message("lobby", "u", fmt.Sprint(run)))
		if err != nil || ev.ID != run {
			t.Fatalf("run %d: ID %d, %v; want %d", run, ev.ID, err, run)
		}
		checkStreamMsgs(t, a, uint64(run))
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
