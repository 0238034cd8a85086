// Package chat is the core of sshchat, apart from any transport: the
// rooms (a hub each, made through Config.OpenRoom; their owners,
// operators, topics and modes kept in the registry; the limits on how
// many), who is online and in which rooms (presence, the one record of
// users, their names, sessions and away state, read by /who, the script
// who and the member lists alike), the names a key may go by (look-alikes
// fold together, claims are kept in the registry), the slash commands and
// their registry, moderation of the server and of each room (kick, ban,
// mute, release), direct messages (a hidden hub, DirectID, without
// presence), the per-user message rate, and the logic of the script
// commands say, who, history, tail and rooms.
//
// It imports no SSH package and nothing of the terminal UI (the registry
// it keeps names in reads authorized_keys files with x/crypto/ssh, for the
// admin lists; nothing of a connection). A session is what implements
// Session (and Script, for a command without a terminal): it arrives
// through Core.Arrive, joins rooms and posts and runs commands through
// its Seat; the core reaches back only to end it or to put it in a room
// (Session.Enter). A room is reached through the Room interface, which a
// *hub.Hub satisfies: a bus between nodes plugs in there.
//
// Every event the core hands to a person passes hub.Visible (direct
// messages, ignores); a test of the package checks that every read of the
// rooms' events does.
package chat
