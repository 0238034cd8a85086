package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// appendToken appends the text of token t.
func appendToken(b []byte, t token) []byte {
	b = append(b, 't')
	b = strconv.AppendInt(b, int64(t.sender), 10)
	b = append(b, 'x')
	b = strconv.AppendInt(b, int64(t.seq), 10)
	b = append(b, 'r')
	b = strconv.AppendInt(b, int64(t.run), 10)
	return append(b, 'z')
}

// sendAll has the first -senders sessions send the run's messages at
// -rate in all, message i at start + i/rate, and returns when all are
// sent or ctx ends.
func (r *run) sendAll(ctx context.Context, senders []*session, start time.Time) {
	r.senders.Store(int64(len(senders)))
	r.roomOf = make([]int, len(senders))
	for j, s := range senders {
		r.roomOf[j] = r.cfg.room(s.idx)
	}
	var wg sync.WaitGroup
	for j, s := range senders {
		wg.Go(func() { r.sendFrom(ctx, s, j, start) })
	}
	wg.Wait()
}

// sendFrom sends the messages of sender j: j, j+K, j+2K, ...
func (r *run) sendFrom(ctx context.Context, s *session, j int, start time.Time) {
	k := int(r.senders.Load())
	buf := make([]byte, 0, 64)
	for seq := 0; ; seq++ {
		i := j + k*seq
		if i >= r.messages {
			return
		}
		due := start.Add(time.Duration(float64(i) / r.cfg.Rate * float64(time.Second)))
		if !sleepCtx(ctx, time.Until(due)) {
			return
		}
		r.noteLag(time.Since(due))
		buf = appendToken(buf[:0], token{sender: j, seq: seq, run: r.id})
		buf = append(buf, '\r')
		r.sendAt[i].Store(r.clock())
		receivers := r.aliveIn[r.roomOf[j]].Load()
		if _, err := s.stdin.Write(buf); err != nil {
			r.sendAt[i].Store(0) // not sent: due to nobody
			r.sendErrors.Add(1)
			r.notef("sender %d: %v", j, err)
			return
		}
		r.sent.Add(1)
		r.expected.Add(receivers)
	}
}

func (r *run) noteLag(d time.Duration) {
	for {
		old := r.maxLag.Load()
		if int64(d) <= old || r.maxLag.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// notef prints a note on the progress stream.
func (r *run) notef(format string, args ...any) {
	fmt.Fprintf(r.progress, "sshchat-load: "+format+"\n", args...)
}

// settle waits until every due delivery was seen, or -settle passed.
func (r *run) settle(ctx context.Context) time.Duration {
	start := time.Now()
	deadline := start.Add(r.cfg.Settle)
	for time.Now().Before(deadline) && r.delivered.Load() < r.expected.Load() {
		if !sleepCtx(ctx, 20*time.Millisecond) {
			break
		}
	}
	return time.Since(start)
}
