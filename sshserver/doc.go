// Package sshserver is the SSH face of sshchat: it accepts SSH connections
// with public-key authentication, turns each interactive session into a
// subscriber of the hubs of the rooms it is in (and of its direct
// messages), and runs one Bubble Tea program per session to draw it. A
// session opens in the default room, or in the room its command names
// (ssh -t HOST '#go'). What may be said, by whom and to whom (presence, names,
// commands, moderation, the script commands) is the chat core's (package
// chat): a session arrives there, and posts and runs commands through its
// chat.Seat.
//
// The server is built with wish: wish.NewServer and its options (server.go;
// how clients authenticate is all in Server.auth), and one middleware chain
// every session goes through (middleware.go): recover, logging, admission
// (the allow-list and bans), the router of script commands (ssh HOST say
// hi), and the chat. wish's bubbletea middleware is not used: it runs a
// goroutine of its own for window changes and a renderer of its own, and
// queries the terminal's background colour, which a client that never
// answers would leave waiting. A session draws on its ui.Screen, with a
// lipgloss renderer that asks the terminal nothing.
//
// The user's identity is the SHA256 fingerprint of the key the client
// proved it holds; the SSH login name is only the display name asked for.
//
// The goroutines of a chat session all end when it ends: the SSH handler,
// which runs the program (and those Bubble Tea starts for it); one pump
// that moves the events of all its rooms and window changes into the
// program in batches, woken by every room's hub on one channel (see
// streams), so that a room costs a session no goroutine;
// and, only while output is queued, one writer that moves it to the
// network, so that a client which stops reading never blocks the program
// (see outbox): an idle session has no writer. Before them, each session
// channel has a filter of its requests, which bounds what a client may ask
// and ends with the channel (see channel.go for the bounds). After a crowd
// of arrivals, a timer (no goroutine waits for it) gives the memory their
// handshakes used back to the operating system (see crowdTrim).
package sshserver
