// Package ui is the full-screen chat interface of one session: a Bubble Tea
// model fed with batches of hub events. It does no I/O but through the
// Screen it is given (below): the session's server side runs the program, sends it the hub's events as
// EventsMsg (one message, and so one frame, per batch), the terminal size
// as ResizeMsg and the end of the stream as EndMsg; the model
// publishes what the user types through Config.Post and runs the
// server's slash commands through Config.Run, each inside a tea.Cmd and
// in the context of the room shown.
// Its own commands (/help, /join of a room the session is in, /reply,
// /timestamp, /bell, /quit) and the server's make one registry, which
// /help and Tab completion read. The terminal bell, for mentions and
// direct messages, in any room, goes out with a frame (see bell.go).
//
// Rooms: a session is in several (Config.Rooms, then JoinedMsg and
// PartedMsg), each with its own transcript and scrollback, and shows one.
// The events of all of them come in the same EventsMsg, each routed to
// its room by its ChatRoomID; direct messages (DirectRoom) are in no
// room and show in the room shown. What others say in a room not shown
// counts as unread, with a mark ('@') when it names the reader; on a
// wide screen the room list, beside the member list, shows the counts,
// on a narrow one the status line does. Alt+1…9 show a room by its number
// in the list, Ctrl+N and Ctrl+P the next and the one before, and /join
// #room one the session is in, without asking the server. A room not
// shown lays nothing out: an event there adds an entry and changes the
// counter, which is all it redraws, and a room keeps no laid-out lines
// while it is not shown. In line mode (Lines) every room's lines are
// written as they come, those of a room not shown after its name in
// brackets ("[#go] 12:00 ann: hi"), and a line says which room is shown
// when it changes.
//
// It knows nothing of SSH. Every style comes from the renderer it is given
// (Config.Renderer), never from lipgloss's global one. It asks the
// terminal one thing, whether it draws grapheme clusters whole (mode
// 2027), and never waits for the answer, which comes with the input if
// ever (see width.go). Every piece of text that came from a user passes
// through package sanitize before it is measured or drawn, and is measured
// as the session's terminal draws it: by code point unless it said
// otherwise, ambiguous characters wide in a CJK locale, and as '?' for a
// terminal that is not UTF-8 (Config.Locale).
//
// What the terminal can do comes from its terminfo entry (CapsFor): a
// Screen scrolls only where it has a scroll region, and a terminal that
// cannot place its cursor gets a line-mode chat (Lines) instead.
//
// The model draws itself on a Screen (Config.Screen) and the program
// runs without Bubble Tea's renderer (View is empty): the Screen sends
// only the rows that changed and has the terminal scroll the transcript,
// so a new message costs about its own line, not the whole screen (see
// screen.go).
//
// Rendering cost does not grow with the history or the number of users:
// each transcript entry is wrapped and styled once per width and cached,
// a frame walks only the entries in view, the transcript keeps the last 400
// entries (arrivals and departures in a row gather into one), and the
// member list is rebuilt only when it changes. Nor does it grow with the
// number of screens an event goes to: the sessions of a server share one
// entry of it, laid out once for each width and look, and the paints of
// each colour profile (Config.Shared); an entry that mentions its reader is
// theirs alone.
//
// The screen, top to bottom: a header (the room, which of yours it is when
// no room list shows it, users in it, its topic, your name), the
// transcript with the room list and the member list to its right on wide
// terminals, a status line and the input line.
package ui
