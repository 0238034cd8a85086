package sshserver

import "errors"

// errCannotSave refuses a message while the server cannot keep it: a room
// that showed it would lose it.
var errCannotSave = errors.New("the server cannot save messages right now: try again in a while")

// WithStore sets how the server learns whether new messages can be saved:
// while ready returns an error (the event log cannot write, e.g. a full
// disk) messages, actions, direct messages and scripts' say are refused
// with a line that says so, rather than shown to the room and never
// written. Sessions stay open. Without it every message is accepted.
func WithStore(ready func() error) Option {
	return func(s *Server) { s.store = ready }
}

// canSave says why a new message cannot be saved now, or nil.
func (s *Server) canSave() error {
	if s.store == nil || s.store() == nil {
		return nil
	}
	return errCannotSave
}
