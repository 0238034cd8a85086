// Package chat is the core of sshchat, apart from any transport: who is
// online (presence, the one record of users, their names, sessions and
// away state, read by /who, the script who and the member lists alike),
// the names a key may go by (look-alikes fold together, claims are kept in
// the registry), the slash commands and their registry, moderation (kick,
// ban, mute, release), the per-user message rate, and the logic of the
// script commands say, who, history and tail.
//
// It imports no SSH package and nothing of the terminal UI (the registry
// it keeps names in reads authorized_keys files with x/crypto/ssh, for the
// admin lists; nothing of a connection). A session is what implements
// Session (and Script, for a command without a terminal): it arrives
// through Core.Arrive, then posts and runs commands through its Seat; the
// core reaches back only to end it. The room is reached through the Room
// interface, which a *hub.Hub satisfies: rooms and a bus between nodes
// plug in there.
//
// Every event the core hands to a person passes hub.Visible (direct
// messages, ignores); a test of the package checks that every read of the
// room's events does.
package chat
