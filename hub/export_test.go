package hub

import "time"

// Users is who was online just after the session arrived, itself
// included, when the subscription asked for it (WithUsers); nil otherwise.
func (s *Subscription) Users() []User { return s.users }

// WithUsers asks for a snapshot of who is online (Subscription.Users). It
// costs a copy of the room for every arrival: a server that keeps its own
// roster should not ask.
func WithUsers() SubscribeOption {
	return func(c *subscribeConfig) { c.users = true }
}

// WithFlushInterval sets how long presence events wait to be delivered
// together and how often full channels are retried (DefaultFlushInterval
// when d ≤ 0; at least a millisecond).
func WithFlushInterval(d time.Duration) Option {
	return func(c *config) { c.flushInterval = d }
}

// WithClock sets the source of event times (default time.Now). How long a
// message has waited is measured with the monotonic clock regardless.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// Users returns who is online, in no particular order.
func (h *Hub) Users() []User {
	rep, err := h.call(request{op: opUsers})
	if err != nil {
		return nil
	}
	return rep.users
}
