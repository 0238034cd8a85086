// Package hub is the message hub of one chat room: an event bus that
// sessions subscribe to and listeners (such as the event log) observe.
//
// One goroutine owns every piece of state; callers talk to it over a
// request channel and receive events on channels. There is no mutex.
//
// Delivery rules:
//   - every subscriber receives every event from its own arrival on, in ID
//     order and without gaps, until its stream is closed;
//   - the hub never blocks on a subscriber: one whose buffer is full is
//     evicted (its stream is closed, Subscription.Err says why, and the
//     others see it remove or leave);
//   - listeners receive every event, in order; a slow listener slows the hub
//     rather than losing an event;
//   - IDs increase for the life of the event log: a hub can be seeded with
//     the history it had before a restart.
//
// The hub knows nothing about SSH, terminals or files.
package hub
