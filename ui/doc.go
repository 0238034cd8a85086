// Package ui is the full-screen chat interface of one session: a Bubble Tea
// model fed with batches of hub events. It does no I/O but through the
// Screen it is given (below): the session's server side runs the program, sends it the hub's events as
// EventsMsg (one message, and so one frame, per batch), the terminal size
// as ResizeMsg and the end of the stream as EndMsg; the model
// publishes what the user types through Config.Post and runs the
// server's slash commands through Config.Run, each inside a tea.Cmd.
// Its own commands (/help, /reply, /timestamp, /bell, /quit) and the
// server's make one registry, which /help and Tab completion read. The
// terminal bell, for mentions and direct messages, goes out with a frame
// (see bell.go).
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
// member list is rebuilt only when it changes.
//
// The screen, top to bottom: a header (room, users online, your name), the
// transcript with the member list to its right on wide terminals, a status
// line and the input line.
package ui
