// Package hub is the message hub of one chat room: an event bus that
// sessions subscribe to and listeners (such as the event log) observe.
//
// One goroutine owns every piece of state; callers talk to it over a
// request channel and receive events on channels. There is no mutex.
//
// Delivery rules:
//   - every subscriber receives every event from its own arrival on, in ID
//     order, until its stream is closed, with one exception: presence
//     events (arrivals, departures, renames, away and back) that it could
//     not take as they came are folded into one EventTypeRoster event,
//     which tells it to look at who is online now;
//   - presence events wait up to the flush interval (DefaultFlushInterval;
//     longer in a room of thousands, so that they wake at most 5,000
//     readers a second) and go out together, so a storm of arrivals wakes
//     each reader once a flush rather than once an arrival; any other
//     event sends them first;
//   - listeners receive every event, in order; a slow listener slows the hub
//     rather than losing an event;
//   - a subscriber may ask to be woken on a channel after its stream
//     changes (WithNotify), so that one reader waits for many rooms at
//     once;
//   - IDs increase for the life of the event log: a hub can be seeded with
//     the history it had before a restart, and the hubs of several rooms
//     can share one sequence (WithStamp).
//
// Slow consumers: the hub never blocks on a subscriber. Its channel holds
// DefaultSubscriberBuffer events; what does not fit waits in a queue the
// hub keeps for it and retries every flush interval. Presence is state, so
// a queue holds at most one roster event between two messages (any event
// but presence counts as a message). A subscriber is evicted only when
// more than DefaultMaxBehind messages wait in its queue, or when the
// oldest of them has waited DefaultMaxLag (both options), or when Evict
// says so (its client stopped reading). Eviction
// closes its stream (Subscription.Err says why) and the others see it go,
// with a reason starting "evicted: ". A departure is presence and never
// counts against anyone, so an eviction never causes another, and a
// queue's memory is bounded: at most 2·MaxBehind+1 events.
//
// The hub keeps each user's sessions and name only to make its events:
// join or add, leave or remove, the sender's name on each. Who is online,
// as people read it (the member lists, /who, ssh HOST who), is package
// chat's presence.
//
// The hub knows nothing about SSH, terminals or files.
package hub
