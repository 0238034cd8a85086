package main

import "fmt"

// missReport says which deliveries were never seen: whether whole
// messages went missing or single sessions missed some.
type missReport struct {
	Deliveries   int      `json:"deliveries"`            // (session, message) pairs due but not seen
	Nowhere      int      `json:"messages_seen_nowhere"` // sent, but seen by no session
	Partly       int      `json:"messages_seen_partly"`  // seen by some sessions, not all
	Sessions     int      `json:"sessions_missing_any"`
	WorstSession int      `json:"most_missed_by_one_session"`
	Examples     []string `json:"examples,omitempty"` // the first few messages missed
}

// missReport counts, for each message sent, the sessions alive at its
// send that never saw it. It reads the sessions' seen sets, so it runs
// only after their readers ended; a session still reading is left out.
//
// It also returns, per screen, how many of the messages due to it it
// showed.
func (r *run) missReport(sessions []*session) (*missReport, screensReport) {
	var done []*session
	for _, s := range sessions {
		select {
		case <-s.done:
			done = append(done, s)
		default:
		}
	}
	m := &missReport{}
	perSession := make([]int, len(done))
	perDue := make([]int, len(done))
	k := int(r.senders.Load())
	for i := range r.messages {
		sentAt := r.sendAt[i].Load()
		if sentAt == 0 {
			continue
		}
		due, missed, first := 0, 0, -1
		room := r.senderRoom(i, k)
		for j, s := range done {
			if !s.dueAt(sentAt) || r.cfg.room(s.idx) != room {
				continue
			}
			due++
			perDue[j]++
			if s.seen[i/64]&(uint64(1)<<(i%64)) == 0 {
				missed++
				perSession[j]++
				if first < 0 {
					first = s.idx
				}
			}
		}
		m.Deliveries += missed
		switch {
		case missed == 0:
			continue
		case missed == due:
			m.Nowhere++
		default:
			m.Partly++
		}
		if len(m.Examples) < 5 && k > 0 {
			t := token{sender: i % k, seq: i / k, run: r.id}
			m.Examples = append(m.Examples, fmt.Sprintf("%s missed by %d of %d sessions, the first session %d", appendToken(nil, t), missed, due, first))
		}
	}
	seen := make([]int, len(done))
	for j, n := range perSession {
		seen[j] = perDue[j] - n
		if n > 0 {
			m.Sessions++
			m.WorstSession = max(m.WorstSession, n)
		}
	}
	return m, summarizeScreens(perDue, seen)
}

// dueAt reports whether the session was there to see a message sent at
// run clock c: its first screen came before and its stream ended after.
func (s *session) dueAt(c int64) bool {
	ready, end := s.readyAt.Load(), s.endAt.Load()
	return ready != 0 && ready <= c && (end == 0 || end > c)
}

// senderRoom is the room of the sender of message i, with k senders.
func (r *run) senderRoom(i, k int) int {
	if k == 0 || i%k >= len(r.roomOf) {
		return 0
	}
	return r.roomOf[i%k]
}
