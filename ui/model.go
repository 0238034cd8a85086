package ui

import (
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/sanitize"
)

// Config is what a session's model starts from. The model keeps no
// reference to the slices: the caller may reuse them.
type Config struct {
	// Rooms are the rooms the session is in at the start, in order; the
	// first is shown. With none, the screen says how to /join one.
	Rooms    []RoomView
	UserID   string             // the session owner's key fingerprint ("SHA256:...")
	Name     string             // the owner's display name
	Notices  []string           // system lines to show at the start, in the first room, after its history
	Renderer *lipgloss.Renderer // the session's renderer: every style comes from it; nil means no colour
	// Post publishes a message in room (an ID, without '#'): the room
	// shown. It is called only inside a tea.Cmd; an error (e.g. "slow
	// down") is shown and the text goes back to the input.
	Post     func(room, text string) error
	Commands []CommandInfo // the server's commands this user may run, for /help and Tab; a local command of the same name wins
	// Run runs the server's command name with the rest of the line, in
	// the context of room, the room shown ("" when the session is in
	// none). It is called only inside a tea.Cmd; the reply (may be several
	// lines) is shown as notice lines, an error as one error line.
	Run        func(room, name, args string) (string, error)
	Roster     Roster // who is in each room, kept by the server for all sessions; nil: no one
	Width      int    // initial terminal size
	Height     int
	Location   *time.Location // for timestamps; nil means time.Local
	MaxMessage int            // max message length in bytes; 0 means DefaultMaxMessage
	// Locale is what the session's locale says of its terminal: its
	// charset and how wide ambiguous characters are.
	Locale Locale
	// Screen is where the model draws itself: its first frame in Init,
	// then after every Update. View is empty: the program runs with
	// tea.WithoutRenderer. Without a Screen (or Lines) the model draws
	// nothing.
	Screen *Screen
	// Lines, if set (and Screen not), is where the model writes itself as
	// a line-mode chat, for a terminal that cannot place its cursor. The
	// program must then run with tea.WithoutRenderer.
	Lines *Lines
	// Input, if set, is the reader the program reads the terminal with:
	// the model tells the person when it cut a paste.
	Input *InputReader
	// Recycle, if set, is given every EventsMsg once the model is done
	// with it, at the end of its Update: the sender may fill the slice
	// again. The model keeps no reference to it.
	Recycle func(EventsMsg)
	// Shared, if set, is what the model has in common with the other
	// sessions given the same: give every session of a server the same.
	// Nil: the model makes everything for itself.
	Shared *Shared
}

// DefaultMaxMessage is the message length limit, in bytes, when
// Config.MaxMessage is 0.
const DefaultMaxMessage = 4096

// EventsMsg is a batch of hub events, in order. The whole batch is one
// Update, and so at most one frame. The model keeps no reference to the
// slice (see Config.Recycle).
type EventsMsg []hub.Event

// EndMsg tells the model that the session's stream has ended (the server
// is shutting down, the session was evicted ...): it shows Reason and
// quits.
type EndMsg struct{ Reason string }

const (
	// Below this size only "terminal too small" is shown.
	minWidth, minHeight = 20, 6
	// Above it the frame is cut: the server clamps sizes there too, and
	// the cost of a frame stays bounded.
	maxWidth, maxHeight = 500, 200

	wheelLines = 3 // lines scrolled per mouse wheel step
	chrome     = 3 // lines that are not the transcript: header, status, input
)

// Model is the chat screen of one session. *Model implements tea.Model.
type Model struct {
	userID     string
	post       func(room, text string) error
	run        func(room, name, args string) (string, error)
	loc        *time.Location
	maxMessage int
	in         *InputReader // nil when the program reads the terminal otherwise
	shared     *Shared      // nil when the model makes everything for itself
	recycle    func(EventsMsg)
	st         *styles
	keys       *keyMap   // the Shared's, or the model's own
	commands   []command // local and the server's, by name

	name    string                        // the owner's current name, which mentions are of
	peer    struct{ userID, name string } // who last sent this user a direct message: what /reply answers
	bell    bellMode                      // when to ring
	ringing bool                          // a bell is held: see bell.go
	bells   int                           // bells rung, to match each hold to its end
	redrawn bool                          // a redraw asked with Ctrl+L is held: see redrawHold

	rooms      []*room     // the rooms the session is in, in the order joined
	cur        *room       // the room shown; never nil: see nowhere
	transcript *transcript // cur's
	clock      bool        // lines start with the time of day, in every room
	list       roomList

	width, height int
	header        header
	members       members
	input         input
	status        status

	frm    frame    // the last layout, reused
	side   []string // its side rows, reused
	screen *Screen  // where the model draws itself, if it does
	lines  *Lines   // or writes itself line by line
}

var _ tea.Model = (*Model)(nil)

// New makes the model of a session.
func New(cfg Config) *Model {
	r := cfg.Renderer
	if r == nil {
		r = lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(termenv.Ascii)
		r.SetHasDarkBackground(true)
	}
	var st styles
	if cfg.Shared != nil {
		st = stylesOf(cfg.Shared.palette(r), cfg.Locale)
	} else {
		st = newStyles(r, cfg.Locale)
	}
	m := &Model{
		userID:     cfg.UserID,
		post:       cfg.Post,
		run:        cfg.Run,
		loc:        cfg.Location,
		maxMessage: cfg.MaxMessage,
		in:         cfg.Input,
		shared:     cfg.Shared,
		recycle:    cfg.Recycle,
		st:         &st,
		keys:       keysOf(cfg.Shared),
		commands:   newRegistry(cfg.Commands),
		name:       displayName(cfg.UserID, cfg.Name),
		screen:     cfg.Screen,
		clock:      true,
	}
	if cfg.Screen == nil && cfg.Lines != nil {
		m.lines = cfg.Lines
		m.lines.st = m.st
	}
	if m.loc == nil {
		m.loc = time.Local
	}
	if m.maxMessage <= 0 {
		m.maxMessage = DefaultMaxMessage
	}

	m.list = roomList{st: m.st, dirty: true}
	for _, v := range cfg.Rooms {
		v.ID = sanitize.Line(v.ID)
		if r, _ := m.find(v.ID); r != nil || v.ID == "" {
			continue
		}
		var out *Lines // only the room shown writes its history
		if len(m.rooms) == 0 {
			out = m.lines
		}
		r := m.newRoom(v, out)
		if len(m.rooms) > 0 {
			r.t.park()
			r.t.tag = r.title
		}
		m.rooms = append(m.rooms, r)
	}
	m.cur = m.nowhere()
	if len(m.rooms) > 0 {
		m.cur = m.rooms[0]
	}
	m.transcript = &m.cur.t
	m.header = header{st: m.st, room: m.cur.title, topic: m.cur.topic, name: m.name, dirty: true}
	m.members = newMembers(m.st, cfg.Shared, cfg.Roster, m.cur.id)
	m.header.setOnline(m.members.count())
	m.input = newInput(m.st, r, m.maxMessage)
	m.status = status{st: m.st, dirty: true}

	for _, n := range cfg.Notices {
		m.addLocal(kindNotice, sanitize.Text(n))
	}
	if m.cur.id == "" {
		m.addLocal(kindNotice, noRoomText)
	}
	m.handleResize(cfg.Width, cfg.Height)
	return m
}

// Filter drops the messages a session must never act on; give it to
// tea.WithFilter. tea.Suspend would stop the whole server, not a session.
func Filter(_ tea.Model, msg tea.Msg) tea.Msg {
	if _, ok := msg.(tea.SuspendMsg); ok {
		return nil
	}
	return msg
}

// Init implements tea.Model. The model needs no command to start; on a
// Screen it draws its first frame.
func (m *Model) Init() tea.Cmd {
	m.draw()
	return nil
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.draw()
	return m, cmd
}

// draw sends the frame to the screen, if the model has one, or the prompt
// to its lines.
func (m *Model) draw() {
	switch {
	case m.screen != nil && m.shared != nil:
		// The rows a frame is laid out in are needed while it is drawn
		// only: between frames they serve other screens.
		sc := m.shared.scratch.Get().(*frameScratch)
		m.frm.rows, m.transcript.rows, m.side = sc.rows, sc.lines, sc.side
		m.screen.draw(m.layout())
		sc.rows, sc.lines, sc.side = clearLen(m.frm.rows), clearLen(m.transcript.rows), clearLen(m.side)
		m.frm.rows, m.transcript.rows, m.side = nil, nil, nil
		m.shared.scratch.Put(sc)
	case m.screen != nil:
		m.screen.draw(m.layout())
	case m.lines != nil:
		m.lines.prompt(prompt + m.input.value())
		m.lines.flush()
	}
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case EventsMsg:
		cmd := m.handleEvents(msg)
		if m.recycle != nil {
			m.recycle(msg)
		}
		return cmd
	case EndMsg:
		return m.handleEnd(msg)
	case JoinedMsg:
		m.handleJoined(msg)
	case PartedMsg:
		m.handleParted(msg)
	case postFailedMsg:
		m.handlePostFailed(msg)
	case commandDoneMsg:
		m.handleCommandDone(msg)
	case bellDoneMsg:
		m.handleBellDone(msg)
	case redrawDoneMsg:
		m.redrawn = false
	case tea.KeyMsg:
		return m.handleKey(msg)
	case tea.MouseMsg:
		m.handleMouse(msg)
	case ResizeMsg:
		m.handleResize(msg.Width, msg.Height) // the Screen repaints whole when the size changes
	case tea.SuspendMsg:
		// Never suspend: see Filter.
	default:
		if byteSlice(msg) && m.in != nil {
			if value, ok := m.in.reports.graphemes(); ok {
				m.handleModeReport(value)
			}
			if value, ok := m.in.reports.margins(); ok && m.screen != nil {
				m.screen.useMargins(value)
			}
			return nil
		}
		return m.input.update(msg)
	}
	return nil
}

// byteSlice reports whether msg is a byte slice of a type of its own, as
// Bubble Tea hands over an unknown CSI sequence, such as the terminal's
// answer about a mode. Its bytes are not read: they are Bubble Tea's
// buffer, which its reader fills again meanwhile. The answer is taken
// from the InputReader, which saw it on its way in.
func byteSlice(msg tea.Msg) bool {
	v := reflect.ValueOf(msg)
	return v.IsValid() && v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8
}

// handleModeReport follows the terminal's answer about mode 2027: set (1),
// reset (2) or always set (3) means it can draw grapheme clusters whole.
// From then on widths are measured by cluster and the screen is drawn
// again. Until an answer comes, if ever, widths stay conservative.
func (m *Model) handleModeReport(value int) {
	if value < 1 || value > 3 || m.screen == nil || m.st.ms.graphemes {
		return
	}
	m.st.ms.graphemes = true
	m.screen.useGraphemes()
	m.relayout()
}

// redrawHold is how long after a redraw asked with Ctrl+L the next one is
// not done: the screen was just painted whole, and a client that sends
// Ctrl+L as fast as it can must not have the server paint a whole screen
// for each.
const redrawHold = 250 * time.Millisecond

// redrawDoneMsg ends the hold of a redraw.
type redrawDoneMsg struct{}

// redraw paints the whole screen again with the next frame (Ctrl+L), for
// a terminal something else wrote on, and holds further redraws for
// redrawHold.
func (m *Model) redraw() tea.Cmd {
	if m.redrawn {
		return nil
	}
	switch {
	case m.screen != nil:
		m.screen.fresh = true
	case m.lines != nil:
		m.lines.erasePrompt() // and draw it again
	}
	m.redrawn = true
	return tea.Tick(redrawHold, func(time.Time) tea.Msg { return redrawDoneMsg{} })
}

// relayout lays out everything again, after a change of how it is measured.
func (m *Model) relayout() {
	m.transcript.relayout()
	m.members.dirty = true
	m.handleResize(m.width, m.height)
}

// handleEvents shows a batch of events, and rings the bell once if any
// of them calls for it.
//
// Each event goes to its room (see roomOf). An event in a room not shown
// lays nothing out: it adds an entry, and what it says counts in the
// room list, which is all of the screen it changes.
func (m *Model) handleEvents(evs EventsMsg) tea.Cmd {
	ring := false
	for _, ev := range evs {
		r := m.roomOf(ev)
		if r == nil {
			continue
		}
		if r == m.cur || ev.Type == hub.EventTypeNick || ev.Type == hub.EventTypeAway || ev.Type == hub.EventTypeBack {
			m.members.apply(ev) // a user's name and state are the same in every room
		}
		// A roster event stands for presence this session fell behind
		// on, its own renames included: it says the current name.
		if (ev.Type == hub.EventTypeNick || ev.Type == hub.EventTypeRoster && ev.Name != "") && ev.UserID == m.userID {
			m.name = displayName(m.userID, ev.Name)
			m.header.setName(m.name)
		}
		if ev.Type == hub.EventTypeTopic {
			r.topic = sanitize.Line(ev.Message)
			if r == m.cur {
				m.header.setRoom(r.title, r.topic)
			}
		}
		if r.t.gatherEvent(ev) {
			continue
		}
		if e := m.entryFor(ev); e != nil {
			ring = m.rings(ev, e) || ring
			r.t.add(e)
			if r != m.cur && r.count(ev, e, m.userID) {
				m.list.dirty = true
			}
		}
	}
	m.header.setOnline(m.members.count())
	m.refreshStatus()
	if ring {
		return m.ring()
	}
	return nil
}

// entryFor makes the entry of an event as this user sees it: their name
// highlighted where others mention it. It also follows who last sent
// them a direct message, for /reply.
func (m *Model) entryFor(ev hub.Event) *entry {
	switch {
	case ev.Type == hub.EventTypeDirect && ev.To == m.userID && ev.UserID != m.userID:
		m.peer.userID, m.peer.name = ev.UserID, displayName(ev.UserID, ev.Name)
	case ev.Type == hub.EventTypeNick && ev.UserID == m.peer.userID && ev.UserID != "":
		m.peer.name = displayName(ev.UserID, ev.Name)
	}
	var e *entry
	if m.shared != nil && ev.ID > 0 {
		e = m.shared.entry(ev, m.loc, m.st)
	} else {
		e = makeEntry(ev, m.loc, m.st)
	}
	if e != nil && (e.kind == kindMessage || e.kind == kindAction) && ev.UserID != m.userID {
		if marks := mentions(e.text, m.st.show(m.name)); len(marks) > 0 {
			if e.shared != nil {
				e = e.own() // highlighted for this reader only
			}
			e.marks = marks
		}
	}
	return e
}

func (m *Model) handleEnd(msg EndMsg) tea.Cmd {
	reason := sanitize.Line(msg.Reason)
	if reason == "" {
		reason = "the session has ended"
	}
	m.addLocal(kindNotice, reason)
	m.transcript.toBottom()
	m.refreshStatus()
	return tea.Quit
}

func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	if msg.Paste {
		if cut := m.in.takeCut(); cut > 0 {
			m.addLocal(kindError, "paste cut: the "+strconv.FormatInt(cut, 10)+" bytes after its first "+
				strconv.Itoa(m.in.maxPaste)+" were discarded")
		}
	}
	if msg.Type == tea.KeyRunes && msg.Paste {
		if text := pasted(msg.Runes); strings.Contains(text, "\n") {
			return m.sendPaste(text)
		}
	}
	if msg.Type == tea.KeyRunes && (msg.Paste || len(msg.Runes) > 1) {
		return m.input.update(typed(msg))
	}
	page := max(m.transcript.height-1, 1)
	switch {
	case key.Matches(msg, m.keys.Quit):
		return tea.Quit
	case key.Matches(msg, m.keys.Suspend):
		return nil
	case key.Matches(msg, m.keys.Send):
		return m.send()
	case key.Matches(msg, m.keys.Complete):
		m.input.complete(m.completions)
	case key.Matches(msg, m.keys.Prev):
		m.input.prev()
	case key.Matches(msg, m.keys.Next):
		m.input.next()
	case key.Matches(msg, m.keys.PageUp):
		m.transcript.scrollUp(page)
	case key.Matches(msg, m.keys.PageDown):
		m.transcript.scrollDown(page)
	case key.Matches(msg, m.keys.Follow) && m.transcript.scrolled():
		m.transcript.toBottom()
	case key.Matches(msg, m.keys.Room):
		m.switchTo(int(msg.Runes[0] - '1'))
	case key.Matches(msg, m.keys.NextRoom):
		m.cycle(1)
	case key.Matches(msg, m.keys.PrevRoom):
		m.cycle(-1)
	case key.Matches(msg, m.keys.Redraw):
		return m.redraw()
	default:
		return m.input.update(msg)
	}
	m.refreshStatus()
	return nil
}

// typed turns several runes that arrived at once (fast typing over a slow
// link, or a paste) into text for the input line. Marked as a paste, they
// cannot be mistaken for a key: the word "end" read in one piece has the
// same name as the End key. A paste is sanitized as a whole, so an escape
// sequence inside it goes entirely, not just its ESC.
func typed(msg tea.KeyMsg) tea.KeyMsg {
	if msg.Paste {
		msg.Runes = []rune(sanitize.Line(string(msg.Runes)))
	}
	msg.Paste = true
	return msg
}

func (m *Model) handleMouse(msg tea.MouseMsg) {
	if msg.Action != tea.MouseActionPress {
		return
	}
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		m.transcript.scrollUp(wheelLines)
	case tea.MouseButtonWheelDown:
		m.transcript.scrollDown(wheelLines)
	default:
		return
	}
	m.refreshStatus()
}

func (m *Model) handleResize(width, height int) {
	m.width = min(max(width, 0), maxWidth)
	m.height = min(max(height, 0), maxHeight)
	if m.lines != nil {
		m.lines.width = max(m.width, minWidth)
	}
	if m.tooSmall() {
		return
	}
	tw := m.width
	if m.wide() {
		tw -= membersWidth
	}
	m.transcript.SetSize(tw, m.height-chrome)
	m.resizeSide()
	m.header.SetSize(m.width)
	m.status.SetSize(m.width)
	m.input.SetSize(m.width)
	m.refreshStatus()
}

func (m *Model) tooSmall() bool { return m.width < minWidth || m.height < minHeight }

func (m *Model) wide() bool { return m.width >= membersMinWidth }

// send handles Enter: a command, or a message to publish.
func (m *Model) send() tea.Cmd {
	line := strings.TrimSpace(m.input.value())
	if line == "" {
		return nil
	}
	m.transcript.toBottom()
	defer m.refreshStatus()
	text := line
	switch {
	case strings.HasPrefix(line, "//"):
		text = line[1:]
	case strings.HasPrefix(line, "/"):
		m.input.sent(line)
		return m.runCommand(line)
	}
	if len(text) > m.maxMessage {
		m.addLocal(kindError, "message not sent: it is "+strconv.Itoa(len(text))+
			" bytes long, the limit is "+strconv.Itoa(m.maxMessage))
		return nil
	}
	if m.cur.id == "" {
		m.addLocal(kindError, "message not sent: "+noRoomText)
		return nil
	}
	m.input.sent(line)
	return postCmd(m.post, m.cur.id, text, line)
}

// maxPasteLines bounds a paste of several lines. Such a paste is sent at
// once, as one message: the input line could not hold it. It is refused
// whole, with an error line, beyond maxPasteLines lines or beyond the
// message length limit (Config.MaxMessage bytes, after sanitizing).
const maxPasteLines = 100

// pasted is the text of a paste, sanitized with its line breaks kept,
// blank lines at its start and end dropped.
func pasted(runes []rune) string {
	text := strings.TrimRightFunc(sanitize.Text(string(runes)), unicode.IsSpace)
	for {
		first, rest, ok := strings.Cut(text, "\n")
		if !ok || strings.TrimSpace(first) != "" {
			return text
		}
		text = rest
	}
}

// sendPaste sends a paste of several lines as one message. It is always
// a message, even if it starts with a '/', and never enters the input
// line: what was typed there stays.
func (m *Model) sendPaste(text string) tea.Cmd {
	m.transcript.toBottom()
	defer m.refreshStatus()
	if lines := strings.Count(text, "\n") + 1; lines > maxPasteLines || len(text) > m.maxMessage {
		m.addLocal(kindError, "paste not sent: it is "+strconv.Itoa(lines)+" lines and "+
			strconv.Itoa(len(text))+" bytes long, the limits are "+strconv.Itoa(maxPasteLines)+
			" lines and "+strconv.Itoa(m.maxMessage)+" bytes")
		return nil
	}
	if m.cur.id == "" {
		m.addLocal(kindError, "paste not sent: "+noRoomText)
		return nil
	}
	return postCmd(m.post, m.cur.id, text, "")
}

// postCmd publishes text in room away from Update. line is what goes
// back to the input if it is refused; "" for nothing.
func postCmd(post func(room, text string) error, room, text, line string) tea.Cmd {
	if post == nil {
		return nil
	}
	return func() tea.Msg {
		if err := post(room, text); err != nil {
			return postFailedMsg{line: line, err: err}
		}
		return nil
	}
}

// postFailedMsg says a message was refused: the line goes back to the
// input, unless something new has been typed there meanwhile.
type postFailedMsg struct {
	line string
	err  error
}

func (m *Model) handlePostFailed(msg postFailedMsg) {
	m.addLocal(kindError, "message not sent: "+sanitize.Line(msg.err.Error()))
	if msg.line != "" && m.input.value() == "" {
		m.input.set(msg.line)
	}
	m.refreshStatus()
}

func (m *Model) refreshStatus() {
	rooms, pos := "", ""
	if !m.wide() || m.listRows() == 0 {
		// No room list: the header says which room this is, the
		// status line what waits in the others.
		rooms = m.unreadSummary()
		if _, i := m.find(m.cur.id); len(m.rooms) > 1 && i >= 0 {
			pos = strconv.Itoa(i+1) + "/" + strconv.Itoa(len(m.rooms))
		}
	}
	m.header.setPos(pos)
	m.status.set(m.transcript.scrolled(), m.transcript.newMessages(), rooms)
}

// addLocal adds a line that only this session sees.
func (m *Model) addLocal(kind entryKind, text string) {
	m.transcript.add(&entry{kind: kind, text: text})
}

// clearLen lets go of what s holds, keeping its room.
func clearLen[T any](s []T) []T {
	clear(s)
	return s[:0]
}

// sideRows is the side of a wide screen: the room list, then the member
// list. The slice is reused from frame to frame.
func (m *Model) sideRows() []string {
	m.side = append(append(m.side[:0], m.list.lines(m.rooms, m.cur, m.listRows())...), m.members.lines()...)
	return m.side
}

// eraseRight ends a row that is narrower than the screen, clearing what
// an earlier frame left to its right.
const eraseRight = ansi.EraseLineRight

// ResizeMsg is a change of the terminal's size, as the server learns it:
// the program runs without Bubble Tea's renderer, which would otherwise
// learn it. The Screen repaints whole at the new size.
type ResizeMsg struct{ Width, Height int }

// View implements tea.Model, and is empty: the model draws itself on its
// Screen after every update (see Config.Screen).
func (m *Model) View() string { return "" }

// layout makes the frame of the model as it is now. The frame and its rows
// are reused by the next call.
func (m *Model) layout() *frame {
	f := &m.frm
	f.width, f.height = m.width, m.height
	f.rows = f.rows[:0]
	f.sideCol, f.top, f.bottom, f.sideLead = 0, 0, 0, ""
	if m.tooSmall() {
		text := m.st.fit("terminal too small", m.width)
		f.rows = append(f.rows, row{text: text, width: m.st.width(text)})
		return f
	}

	f.rows = append(f.rows, row{text: m.header.View(), width: m.width})

	lines := m.transcript.window()
	var side []string
	if m.wide() {
		side = m.sideRows()
		f.sideCol = m.transcript.width
		f.sideLead = m.st.sideLead
	}
	height := m.height - chrome
	empty := height - len(lines)
	f.top = len(f.rows)
	for i := range height {
		var r row
		if i >= empty {
			l := lines[i-empty]
			r.text, r.width = l.text, l.width
		}
		if side != nil {
			r.side = side[i]
		}
		f.rows = append(f.rows, r)
	}
	f.bottom = len(f.rows)

	text, width := m.status.View()
	f.rows = append(f.rows, row{text: text, width: width})
	text, width = m.input.View()
	f.rows = append(f.rows, row{text: text, width: width})
	return f
}
