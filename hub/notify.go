package hub

// WithNotify asks the hub to wake ch whenever it has put events in the
// subscription's stream, or closed it: a send that never waits (ch needs
// a buffer of one). A session in many rooms then waits on one channel for
// all of them and takes what each stream holds without blocking, rather
// than keeping a goroutine per room. The wake comes after the events, so
// a reader that drains every stream after each wake misses none; a wake
// may find nothing new.
func WithNotify(ch chan<- struct{}) SubscribeOption {
	return func(c *subscribeConfig) { c.notify = ch }
}

// offer delivers ev to s's stream unless it is full, and wakes its reader.
func (s *subscriber) offer(ev Event) bool {
	if !offer(s.ch, ev) {
		return false
	}
	s.wake()
	return true
}

// wake tells s's reader, without waiting, that its stream changed.
func (s *subscriber) wake() {
	if s.notify == nil {
		return
	}
	select {
	case s.notify <- struct{}{}:
	default: // a wake is pending already
	}
}
