package sshserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/chat"
	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/ui"
)

const (
	// maxBatch bounds how many events one message to the program carries.
	maxBatch = 256
	// flushTimeout is how long a closing session may take to send its last
	// output before its connection is cut.
	flushTimeout = time.Second
	// maxPasteFactor times the message limit is what the program is given
	// of one paste; the rest is discarded, and the person told.
	maxPasteFactor = 4
)

// handle serves the chat to userID, admitted already, with the window
// changes on winch.
func (s *Server) handle(sess ssh.Session, userID string, winch <-chan ssh.Window) {
	ctx := sess.Context()
	pty, _, ok := sess.Pty()
	if !ok {
		s.observe.Refused("no_terminal")
		fmt.Fprintln(sess.Stderr(), "sshchat needs an interactive terminal: connect with ssh -t, or run a command (ssh HOST help)")
		_ = sess.Exit(1)
		return
	}
	sessionID := channelID(ctx)
	log := s.log.With("user", userID, "session", sessionID, "remote", sess.RemoteAddr().String())

	si := newChatSession(sessionID, sess.RemoteAddr().String())
	seat, arrived, err := s.chat.Arrive(userID, sess.User(), si)
	if err != nil {
		log.Error("choose a name", "err", err)
		fmt.Fprintln(sess.Stderr(), "sshchat: could not join the room")
		_ = sess.Exit(1)
		return
	}
	defer seat.Leave()
	name := arrived.Name
	if refusal := s.sessionLimit(arrived.Sessions); refusal != "" {
		log.Info("session refused", "reason", refusal)
		fmt.Fprintf(sess.Stderr(), "sshchat: %s\n", refusal)
		_ = sess.Exit(1)
		return
	}
	defer s.keepalive(ctx, log)()

	// Everything that does not need the subscription is made before it:
	// from the arrival on, the room's events wait for this session.
	var tooSlow atomic.Bool
	out := newOutbox(sess, s.cfg.OutputLimit, s.outBufs, func() {
		log.Warn("client too slow, disconnecting", "queued_limit", s.cfg.OutputLimit)
		s.observe.Refused("too_slow")
		tooSlow.Store(true)
		closeConn(ctx)
	})
	width, height := s.clamp(pty.Window)
	// What the terminal can do follows its TERM, read from terminfo; one
	// that cannot place its cursor gets the chat line by line. The locale
	// says whether it speaks UTF-8 and how wide ambiguous characters are.
	env := environ(append(sess.Environ(), "TERM="+pty.Term))
	renderer := newRenderer(sess, env)
	var (
		screen *ui.Screen
		lines  *ui.Lines
	)
	if caps, ok := ui.CapsFor(pty.Term); ok {
		screen = ui.NewScreen(out, s.outBufs)
		screen.SetCaps(caps)
	} else {
		lines = ui.NewLines(out)
		renderer.SetColorProfile(termenv.Ascii)
	}
	in := ui.NewInputReader(sess, maxPasteFactor*s.cfg.MaxMessage)
	commands := uiCommands(seat.Commands())
	notices := arrived.Notices
	if motd := s.chat.Motd(); motd != "" {
		notices = append([]string{"message of the day: " + motd}, notices...)
	}

	sub, err := seat.Join(s.cfg.Backlog)
	if err != nil {
		if errors.Is(err, hub.ErrClosed) {
			s.observe.Refused("shutting_down")
			fmt.Fprintln(sess.Stderr(), "sshchat: the server is shutting down")
		} else {
			log.Error("subscribe", "err", err)
			fmt.Fprintln(sess.Stderr(), "sshchat: could not join the room")
		}
		_ = sess.Exit(1)
		return
	}
	log.Info("session started", "name", name)
	if arrived.Warning != "" {
		_ = s.hub.Post(hub.Event{Type: hub.EventTypeNotice, Message: arrived.Warning})
	}
	defer func() {
		// Out of the roster first, so that the screens redrawing on the
		// departure no longer list it.
		seat.Leave()
		var err error
		if tooSlow.Load() {
			// Told to the room and counted as an eviction; the client
			// itself cannot be told, it does not read.
			err = s.hub.Evict(userID, sessionID, "output queue full")
		} else {
			err = s.hub.Remove(userID, sessionID)
		}
		if err != nil && !errors.Is(err, hub.ErrNotFound) && !errors.Is(err, hub.ErrClosed) {
			log.Error("remove", "err", err)
		}
	}()

	model := ui.New(ui.Config{
		Rooms:      []ui.RoomView{{ID: s.hub.ID(), History: seat.Visible(sub.History())}},
		UserID:     userID,
		Name:       name,
		Notices:    notices,
		Renderer:   renderer,
		Post:       func(_, text string) error { return seat.Post(text) },
		Commands:   commands,
		Run:        func(_, name, args string) (string, error) { return seat.Run(name, args) },
		Roster:     roster{s.chat},
		Width:      width,
		Height:     height,
		MaxMessage: s.cfg.MaxMessage,
		Screen:     screen,
		Lines:      lines,
		Locale:     ui.LocaleFrom(env.Getenv),
		Input:      in,
	})
	sub.Release() // the model has made its own transcript
	// The model draws itself on its Screen, which sends only what changed
	// and scrolls the transcript with the terminal (see ui.Screen): Bubble
	// Tea's renderer would send every row again whenever a message arrives.
	p := tea.NewProgram(model,
		tea.WithInput(in),
		tea.WithOutput(out),
		tea.WithoutRenderer(),
		tea.WithoutSignalHandler(),
		tea.WithFilter(ui.Filter), // drops tea.Suspend: Ctrl+Z would stop the whole server
	)
	if screen != nil {
		screen.Start()
	}

	pumpCtx, stopPump := context.WithCancel(ctx)
	ended := make(chan string, 1) // why the hub ended the stream, if it did
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		s.pump(pumpCtx, p, sub, winch, seat, si.end, ended, log)
	}()
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		log.Error("program", "err", err)
	}
	stopPump()
	<-pumped
	if screen != nil {
		screen.Close()
	}

	// The program has left the alternate screen: say why the session ended
	// where it stays readable.
	why := "the client left"
	select {
	case reason := <-ended:
		why = reason
		fmt.Fprintf(out, "sshchat: %s\r\n", reason)
	default:
	}
	out.Finish(flushTimeout, func() { closeConn(ctx) })
	// The reason puts evictions, kicks and bans in the server log too.
	log.Info("session ended", "reason", why, "output_err", out.Err())
}

// sessionLimit says why a new session of a user who now has sessions
// sessions may not open, or "".
func (s *Server) sessionLimit(sessions int) string {
	switch {
	case sessions > s.cfg.SessionsPerUser:
		s.observe.Refused("user_sessions")
		return fmt.Sprintf("you have %d sessions open, the limit: close one first", s.cfg.SessionsPerUser)
	case s.sessions.count() > s.cfg.MaxSessions:
		s.observe.Refused("server_full")
		return fmt.Sprintf("the server is full (%d sessions): try again later", s.cfg.MaxSessions)
	}
	return ""
}

// keepalive asks the client every Keepalive whether it is still there, and
// cuts the connection when it does not answer within another Keepalive: a
// peer that vanished without closing TCP holds nothing for long. The
// returned function stops it. No goroutine waits between the questions.
func (s *Server) keepalive(ctx ssh.Context, log *slog.Logger) (stop func()) {
	conn, ok := ctx.Value(ssh.ContextKeyConn).(gossh.Conn)
	if !ok {
		return func() {}
	}
	var stopped atomic.Bool
	var timer *time.Timer
	timer = time.AfterFunc(s.cfg.Keepalive, func() {
		dead := time.AfterFunc(s.cfg.Keepalive, func() {
			log.Info("client did not answer the keepalive, disconnecting")
			s.observe.Refused("keepalive")
			_ = conn.Close()
		})
		_, _, err := conn.SendRequest("keepalive@openssh.com", true, nil)
		dead.Stop()
		if err == nil && !stopped.Load() {
			timer.Reset(s.cfg.Keepalive)
		}
	})
	return func() {
		stopped.Store(true)
		timer.Stop()
	}
}

// pump moves hub events and window changes into the program until ctx
// ends. It is the only caller of p.Send for the session. Events that are
// ready together go as one batch, so the program renders once for them.
func (s *Server) pump(ctx context.Context, p *tea.Program, sub *hub.Subscription, winch <-chan ssh.Window, seat *chat.Seat, end <-chan string, ended chan<- string, log *slog.Logger) {
	events := sub.Events()

	// Frame pacing: a batch goes to the program at most once a frame, so a
	// busy room costs one Update and View per frame, not one per event.
	// What arrives in between waits for the next frame (at most 1/FPS),
	// still read from the hub at once, so the session never falls behind.
	frame := time.Second / time.Duration(s.cfg.FPS)
	var (
		batch    []hub.Event
		last     time.Time // when the last batch went to the program
		flush    = time.NewTimer(time.Hour)
		armed    bool      // flush is running
		armedFor time.Time // when it fires
		kept     int       // arrivals and departures in batch
	)
	flush.Stop()
	defer flush.Stop()
	send := func() {
		if armed {
			flush.Stop()
			armed = false
		}
		if len(batch) > 0 {
			p.Send(ui.EventsMsg(batch))
			batch, kept = nil, 0
		}
		last = time.Now()
	}
	for {
		select {
		case <-ctx.Done():
			p.Quit() // the client went away; returns at once if the program has ended
			return
		case reason := <-end:
			tell(ended, reason)
			p.Send(ui.EndMsg{Reason: reason})
			events, batch = nil, nil // the program quits; the handler removes the session
		case w, ok := <-winch:
			if !ok {
				winch = nil
				continue
			}
			width, height := s.clamp(w)
			// On the model's Screen a new size repaints the whole screen.
			p.Send(ui.ResizeMsg{Width: width, Height: height})
		case <-flush.C:
			armed = false
			send()
		case ev, ok := <-events:
			open := ok
			for ok {
				// The ignores as of this event: one loaded for the whole
				// batch could be older than an /ignore the events after it
				// follow, on a pump that was descheduled meanwhile.
				if hub.Visible(ev, seat.UserID(), seat.Ignored()) {
					batch, kept = gather(batch, kept, ev)
				}
				if len(batch) >= maxBatch {
					break
				}
				select { // take whatever else is ready
				case ev, ok = <-events:
					open = ok
				default:
					ok = false
				}
			}
			// Arrivals and departures alone wait longer: in a storm of
			// them every screen would otherwise redraw at full rate for
			// lines nobody reads as they fly by.
			pace := max(frame, s.frameShare())
			if presenceOnly(batch) {
				pace = max(pace, presenceFrame, s.presenceShare())
			}
			due := last.Add(pace)
			switch {
			case !open:
				send()
				s.endStream(p, sub, ended, log)
				events = nil
			case len(batch) >= maxBatch || !time.Now().Before(due):
				send()
			case len(batch) > 0 && (!armed || due.Before(armedFor)):
				flush.Reset(time.Until(due))
				armed, armedFor = true, due
			}
		}
	}
}

// frameShare is the frame interval a screen gets from the server's frame
// budget, shared by all open sessions: drawing costs the same per frame
// whatever a frame holds, so a thousand screens at full rate would need
// more than a core, and every screen would lag behind in the queue.
func (s *Server) frameShare() time.Duration {
	return time.Duration(int64(time.Second) * int64(s.sessions.count()) / int64(s.cfg.FrameBudget))
}

// presenceShare is presenceFrame for a crowd: the screens together redraw
// for presence alone at most presenceBudget times a second, so a storm of
// arrivals into thousands of screens does not cost every screen a frame
// twice a second.
func (s *Server) presenceShare() time.Duration {
	return time.Duration(int64(time.Second) * int64(s.sessions.count()) / presenceBudget)
}

const (
	// presenceFrame is the pace of batches holding only arrivals and
	// departures.
	presenceFrame = 500 * time.Millisecond
	// presenceBudget is how many frames a second all screens together
	// draw for batches holding only presence.
	presenceBudget = 1000
	// presenceKept is how many arrivals and departures a batch holds one
	// by one; those after them fold into a roster event (the member list
	// shows who is online). In a storm each of thousands of screens would
	// otherwise take every arrival, one event each.
	presenceKept = 16
)

// comings reports whether ev is a session coming or going.
func comings(ev hub.Event) bool {
	switch ev.Type {
	case hub.EventTypeJoin, hub.EventTypeAdd, hub.EventTypeRemove, hub.EventTypeLeave, hub.EventTypeRoster:
		return true
	}
	return false
}

// gather adds ev to batch, which holds kept arrivals and departures,
// folded into a roster event once presenceKept are there.
func gather(batch []hub.Event, kept int, ev hub.Event) ([]hub.Event, int) {
	switch {
	case !comings(ev):
		return append(batch, ev), kept
	case kept >= presenceKept:
		return foldRoster(batch, ev), kept
	case batch == nil:
		// Room for a crowd at once: growing one event at a time was most
		// of a storm's garbage.
		batch = make([]hub.Event, 0, presenceKept+2)
	}
	return append(batch, ev), kept + 1
}

// foldRoster folds the arrival or departure ev into a roster event at the
// end of batch.
func foldRoster(batch []hub.Event, ev hub.Event) []hub.Event {
	if n := len(batch); n > 0 && batch[n-1].Type == hub.EventTypeRoster {
		batch[n-1].ID, batch[n-1].UnixTime = ev.ID, ev.UnixTime
		return batch
	}
	return append(batch, hub.Event{ID: ev.ID, ChatRoomID: ev.ChatRoomID, Type: hub.EventTypeRoster, UnixTime: ev.UnixTime})
}

// presenceOnly reports whether a batch holds nothing but sessions coming
// and going (or a roster event standing for them).
func presenceOnly(batch []hub.Event) bool {
	for _, ev := range batch {
		switch ev.Type {
		case hub.EventTypeJoin, hub.EventTypeAdd, hub.EventTypeRemove, hub.EventTypeLeave, hub.EventTypeRoster:
		default:
			return false
		}
	}
	return true
}

// tell records why the session ends, unless a reason is there already: the
// first one is what the person sees.
func tell(ended chan<- string, reason string) {
	select {
	case ended <- reason:
	default:
	}
}

// endStream tells the program why the hub ended the session's stream.
func (s *Server) endStream(p *tea.Program, sub *hub.Subscription, ended chan<- string, log *slog.Logger) {
	reason := "session ended"
	switch err := sub.Err(); {
	case errors.Is(err, hub.ErrClosed):
		reason = "the server is shutting down"
	case errors.Is(err, hub.ErrEvicted):
		log.Warn("session evicted", "reason", strings.TrimPrefix(err.Error(), hub.ErrEvicted.Error()+": "))
		reason = "disconnected: this session fell too far behind the chat (" +
			strings.TrimPrefix(err.Error(), hub.ErrEvicted.Error()+": ") + ")"
	case errors.Is(err, hub.ErrDropped):
		reason = "disconnected: " + strings.TrimPrefix(err.Error(), hub.ErrDropped.Error()+": ")
	}
	tell(ended, reason)
	p.Send(ui.EndMsg{Reason: reason})
}

// admission says why a key may not use the server, or "": not on the
// allow-list, or banned.
func (s *Server) admission(userID string) string {
	if !s.allowed(userID) {
		s.observe.Refused("not_allowed")
		return "this server admits listed keys only, and " + userID + " is not one of them"
	}
	if why, banned := s.chat.Banned(userID); banned {
		s.observe.Refused("banned")
		return why
	}
	return ""
}

func (s *Server) clamp(w ssh.Window) (width, height int) {
	return min(max(w.Width, 1), s.cfg.MaxWidth), min(max(w.Height, 1), s.cfg.MaxHeight)
}

// newRenderer makes the session's own lipgloss renderer, with the colour
// profile of the client's terminal. It never queries the terminal (a client
// that does not answer would hang it): the background is assumed dark.
func newRenderer(sess ssh.Session, env environ) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(sess, termenv.WithEnvironment(env), termenv.WithUnsafe(), termenv.WithColorCache(true))
	r.SetHasDarkBackground(true)
	return r
}

// environ is a session's environment as termenv reads it.
type environ []string

func (e environ) Environ() []string { return e }

func (e environ) Getenv(key string) string {
	for i := len(e) - 1; i >= 0; i-- { // the last one set wins
		if v, ok := strings.CutPrefix(e[i], key+"="); ok {
			return v
		}
	}
	return ""
}

// channelID names a session: the SSH connection's session ID, and for the
// second and later sessions on one connection (ssh multiplexing) a counter.
func channelID(ctx ssh.Context) string {
	id := ctx.SessionID()
	if n := stateOf(ctx).channels.Add(1); n > 1 {
		id = fmt.Sprintf("%s-%d", id, n)
	}
	return id
}

// closeConn cuts the SSH connection under a session.
func closeConn(ctx ssh.Context) {
	if conn, ok := ctx.Value(ssh.ContextKeyConn).(gossh.Conn); ok {
		_ = conn.Close()
	}
}
