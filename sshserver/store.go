package sshserver

// WithStore sets how the server learns whether new messages can be saved:
// while ready returns an error (the event log cannot write, e.g. a full
// disk) messages, actions, direct messages and scripts' say are refused
// with a line that says so, rather than shown to the room and never
// written. Sessions stay open. Without it every message is accepted.
func WithStore(ready func() error) Option {
	return func(s *Server) { s.store = ready }
}
