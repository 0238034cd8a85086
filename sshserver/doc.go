// Package sshserver is the SSH face of sshchat: it accepts SSH connections
// with public-key authentication, turns each interactive session into a
// subscriber of the room's hub, and runs one Bubble Tea program per session
// to draw it. What may be said, by whom and to whom (presence, names,
// commands, moderation, the script commands) is the chat core's (package
// chat): a session arrives there, and posts and runs commands through its
// chat.Seat.
//
// The user's identity is the SHA256 fingerprint of the key the client
// proved it holds; the SSH login name is only the display name asked for.
//
// Each session has a fixed set of goroutines, all ended when it ends: the
// SSH handler (which runs the program), one pump that moves hub events and
// window changes into the program in batches, and one writer that moves the
// program's output to the network so that a client which stops reading can
// never block the program. Before them, each session channel has a filter
// of its requests, which bounds what a client may ask and ends with the
// channel (see channel.go for the bounds).
package sshserver
