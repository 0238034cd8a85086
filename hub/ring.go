package hub

import "slices"

// ring keeps the most recent events, up to a fixed capacity.
type ring struct {
	buf   []Event
	start int // index of the oldest event
	n     int
}

func newRing(size int) ring {
	return ring{buf: make([]Event, max(size, 0))}
}

func (r *ring) len() int { return r.n }

func (r *ring) push(ev Event) {
	if len(r.buf) == 0 {
		return
	}
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = ev
		r.n++
		return
	}
	r.buf[r.start] = ev
	r.start = (r.start + 1) % len(r.buf)
}

// last returns a copy of the newest n events (fewer if it holds fewer),
// oldest first.
func (r *ring) last(n int) []Event {
	n = min(max(n, 0), r.n)
	if n == 0 {
		return nil
	}
	out := make([]Event, n)
	first := r.start + r.n - n
	for i := range out {
		out[i] = r.buf[(first+i)%len(r.buf)]
	}
	return out
}

// lastFor is last for one user: the newest n events that userID may see.
func (r *ring) lastFor(n int, userID string) []Event {
	n = min(max(n, 0), r.n)
	if n == 0 {
		return nil
	}
	out := make([]Event, 0, n)
	for i := r.n - 1; i >= 0 && len(out) < n; i-- {
		if ev := r.buf[(r.start+i)%len(r.buf)]; Visible(ev, userID, nil) {
			out = append(out, ev)
		}
	}
	slices.Reverse(out)
	return out
}
