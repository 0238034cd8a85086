package sshserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
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
	// inputRate is how many bytes of input a second a session's program
	// is given, past bursts of inputBurst (or of two pastes, if more):
	// typing, the mouse and a paste now and then stay far below it; a
	// client that floods keys costs the server 1 to 4 % of a core, by
	// key (see ui.InputReader.Pace and docs/SECURITY.md).
	inputRate  = 4 << 10
	inputBurst = 32 << 10
)

// handle serves the chat to userID, admitted already, with the window
// changes on winch, opening in room (the lobby when "").
func (s *Server) handle(sess ssh.Session, userID string, winch <-chan ssh.Window, room string) {
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

	// Every room's hub wakes the pump on one channel: the session's
	// streams, which the seat subscribes with.
	var seat *chat.Seat
	src := newStreams(userID, func() map[string]bool { return seat.Ignored() })
	si := newChatSession(sessionID, sess.RemoteAddr().String(), src)
	seat, arrived, err := s.chat.Arrive(userID, sess.User(), si, src.subscribeOption())
	switch {
	case errors.Is(err, hub.ErrClosed):
		s.observe.Refused("shutting_down")
		fmt.Fprintln(sess.Stderr(), "sshchat: the server is shutting down")
		_ = sess.Exit(1)
		return
	case err != nil:
		log.Error("arrive", "err", err)
		fmt.Fprintln(sess.Stderr(), "sshchat: could not join the chat")
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
	in.Pace(inputRate, max(inputBurst, 2*maxPasteFactor*s.cfg.MaxMessage))
	commands := uiCommands(seat.Commands())
	notices := arrived.Notices
	if motd := s.chat.Motd(); motd != "" {
		notices = append([]string{"message of the day: " + motd}, notices...)
	}

	first, refused, err := s.enterFirst(seat, room)
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
	if refused != "" {
		notices = append(notices, refused)
	}
	log.Info("session started", "name", name, "room", first.info.ID)
	if arrived.Warning != "" {
		_ = s.chat.Notice(arrived.Warning)
	}
	defer func() {
		// Out of the rosters first, so that the screens redrawing on the
		// departure no longer list it.
		if tooSlow.Load() {
			// Told to the rooms and counted as an eviction; the client
			// itself cannot be told, it does not read.
			seat.Evict("output queue full")
		} else {
			seat.Leave()
		}
	}()

	direct := roomStream{info: chat.RoomInfo{ID: chat.DirectID}, sub: seat.Direct()}
	src.add(first)
	src.add(direct)
	model := ui.New(ui.Config{
		Rooms:      []ui.RoomView{roomView(seat, first, direct.sub)},
		UserID:     userID,
		Name:       name,
		Notices:    notices,
		Renderer:   renderer,
		Post:       seat.Post,
		Commands:   commands,
		Run:        seat.Run,
		Roster:     roster{s.chat},
		Width:      width,
		Height:     height,
		MaxMessage: s.cfg.MaxMessage,
		Screen:     screen,
		Lines:      lines,
		Locale:     ui.LocaleFrom(env.Getenv),
		Input:      in,
		Shared:     s.screens,
		Recycle:    s.batches.put,
	})
	// The model has made its own transcripts.
	first.sub.Release()
	direct.sub.Release()
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
		s.pump(pumpCtx, p, out, src, winch, seat, si.end, ended, log)
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
	case int(s.sessions.count.Load()) > s.cfg.MaxSessions:
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

// pump moves the events of the session's rooms and window changes into
// the program until ctx ends. It is the only caller of p.Send for the
// session. Events that are ready together go as one batch, so the program
// renders once for them. It has two parts: the event source (readStreams,
// woken by every room's hub on one channel) and the frame pacing.
func (s *Server) pump(ctx context.Context, p *tea.Program, out *outbox, src *streams, winch <-chan ssh.Window, seat *chat.Seat, end <-chan string, ended chan<- string, log *slog.Logger) {
	wake := src.notify // nil once the session ends: nothing more is read

	// Frame pacing: a batch goes to the program at most once a frame, so a
	// busy room costs one Update and View per frame, not one per event.
	// What arrives in between waits for the next frame (at most 1/FPS) in
	// the streams: while a frame is due the pump does not wake for events
	// at all, and reads them when it comes. A stream holds a frame's worth
	// of a busy room (chat.RoomBuffer), and the hub queues the rest, so
	// nothing is lost by waiting; every wake it spares is a context switch
	// for every screen, for every message.
	frame := time.Second / time.Duration(s.cfg.FPS)
	var (
		batch    []hub.Event
		last     time.Time // when the last batch went to the program
		flush    = time.NewTimer(time.Hour)
		armed    bool      // flush is running
		armedFor time.Time // when it fires
		lazy     bool      // while armed, events wait in the streams for the flush
		kept     int       // arrivals and departures in batch

		// A new size repaints the whole screen: window changes, too, go
		// to the program at most once a frame, the latest one.
		resize     *ui.ResizeMsg // not sent yet
		lastResize time.Time
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
	sendResize := func() {
		if resize != nil {
			p.Send(*resize) // on the model's Screen a new size repaints the whole screen
			resize, lastResize = nil, time.Now()
		}
	}
	// read takes what the streams hold into the batch and sends it, now
	// or when its frame is due. woken says that a hub woke the pump: the
	// same event woke every screen of the room at once.
	read := func(woken bool) {
		closing := s.readStreams(p, src, seat, maxBatch-len(batch), send,
			func(ev hub.Event) {
				if batch == nil {
					batch = s.batches.get()
				}
				batch, kept = gather(batch, kept, ev)
			}, log)
		if len(batch) == 0 && closing == "" {
			// A wake for events taken already, or none the user may see:
			// nothing to pace, and no frame spent.
			return
		}

		// Arrivals and departures alone wait longer: in a storm of them
		// every screen would otherwise redraw at full rate for lines
		// nobody reads as they fly by.
		pace := max(frame, s.frameShare())
		presence := presenceOnly(batch)
		if presence {
			pace = max(pace, presenceFrame, s.presenceShare())
		}
		due := last.Add(pace)
		switch {
		case closing != "":
			send()
			tell(ended, closing)
			p.Send(ui.EndMsg{Reason: closing})
			wake = nil // the program quits; the handler removes the session
			src.stop()
		case !time.Now().Before(due):
			if woken {
				// The room was quiet: every screen in it draws this
				// batch now, and each frame should leave before the
				// next screen draws. A paced frame falls on no one
				// else's instant.
				out.Hurry()
			}
			send()
		case len(batch) >= maxBatch:
			send()
		case !armed || due.Before(armedFor):
			flush.Reset(time.Until(due))
			armed, armedFor = true, due
			// A frame of presence alone is far off, and a message would
			// bring it nearer: keep waking for events then.
			lazy = !presence
		}
	}
	for {
		events := wake
		if armed && lazy {
			events = nil // the flush reads them
		}
		select {
		case <-ctx.Done():
			p.Quit() // the client went away; returns at once if the program has ended
			return
		case reason := <-end:
			tell(ended, reason)
			p.Send(ui.EndMsg{Reason: reason})
			wake, batch = nil, nil // the program quits; the handler removes the session
			src.stop()
		case w, ok := <-winch:
			if !ok {
				winch = nil
				continue
			}
			width, height := s.clamp(w)
			resize = &ui.ResizeMsg{Width: width, Height: height}
			switch due := lastResize.Add(frame); {
			case !time.Now().Before(due):
				sendResize()
			case !armed || due.Before(armedFor):
				flush.Reset(time.Until(due))
				armed, armedFor = true, due
			}
		case <-flush.C:
			armed = false
			sendResize()
			if wake == nil {
				send()
				continue
			}
			// What came while the frame was due goes with it. Its wake is
			// spent: the read takes it all (the hubs wake after they put
			// events in a stream, never before).
			select {
			case <-wake:
			default:
			}
			read(false)
		case <-events:
			read(true)
		}
	}
}

// batchPool holds the pumps' batches of events between frames: the
// program gives each back once it has drawn it (ui.Config.Recycle). A
// batch made anew for every frame, grown event by event, was most of the
// garbage a delivered message made.
type batchPool struct{ p sync.Pool } // of *[]hub.Event

// maxPooledBatch is the capacity of the largest batch kept for another
// frame: the batch of a storm is let go.
const maxPooledBatch = 64

func newBatchPool() *batchPool {
	return &batchPool{p: sync.Pool{New: func() any { b := make([]hub.Event, 0, 8); return &b }}}
}

// get returns an empty batch.
func (bp *batchPool) get() []hub.Event { return (*bp.p.Get().(*[]hub.Event))[:0] }

// put takes back a batch the program is done with.
func (bp *batchPool) put(evs ui.EventsMsg) {
	if cap(evs) == 0 || cap(evs) > maxPooledBatch {
		return
	}
	b := []hub.Event(evs)
	clear(b) // its strings are not kept alive
	b = b[:0]
	bp.p.Put(&b)
}

// frameShare is the frame interval a screen gets from the server's frame
// budget, shared by all open sessions: drawing costs the same per frame
// whatever a frame holds, so a thousand screens at full rate would need
// more than a core, and every screen would lag behind in the queue.
func (s *Server) frameShare() time.Duration {
	return time.Duration(int64(time.Second) * s.sessions.count.Load() / int64(s.cfg.FrameBudget))
}

// presenceShare is presenceFrame for a crowd: the screens together redraw
// for presence alone at most presenceBudget times a second, so a storm of
// arrivals into thousands of screens does not cost every screen a frame
// twice a second.
func (s *Server) presenceShare() time.Duration {
	return time.Duration(int64(time.Second) * s.sessions.count.Load() / presenceBudget)
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

// foldRoster folds the arrival or departure ev into a roster event of its
// room at the end of batch.
func foldRoster(batch []hub.Event, ev hub.Event) []hub.Event {
	if n := len(batch); n > 0 && batch[n-1].Type == hub.EventTypeRoster && batch[n-1].ChatRoomID == ev.ChatRoomID {
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

// readStreams is the pump's event source. It hands the program the rooms
// the session entered since it last looked (JoinedMsg), then gives keep
// what the streams hold, up to limit events. A stream that ended ends
// only its room (PartedMsg: a /part, a kick or ban from the room, the
// room dropped), or the whole session: then it returns why. flush sends
// the batch kept so far, so that a room's events reach the program before
// the program lets the room go.
func (s *Server) readStreams(p *tea.Program, src *streams, seat *chat.Seat, limit int, flush func(), keep func(hub.Event), log *slog.Logger) (closing string) {
	for _, r := range src.take() {
		flush()
		p.Send(ui.JoinedMsg{Room: roomView(seat, r, nil)})
		r.sub.Release() // the model has made its transcript
		src.add(r)
	}
	for _, r := range src.collect(limit, keep) {
		why, ends := s.streamEnded(r, log)
		switch {
		case ends && closing == "":
			closing = why
		case !ends:
			flush()
			p.Send(ui.PartedMsg{Room: r.info.ID, Reason: why})
		}
	}
	return closing
}

// streamEnded says why a room's stream ended, and whether that ends the
// session: the server closing, an eviction (the session fell behind) or
// the end of its direct messages (the user was put out of the server)
// do; leaving one room does not.
func (s *Server) streamEnded(r roomStream, log *slog.Logger) (why string, endsSession bool) {
	err := r.sub.Err()
	direct := r.info.ID == chat.DirectID
	switch {
	case errors.Is(err, hub.ErrClosed):
		return "the server is shutting down", true
	case errors.Is(err, hub.ErrEvicted):
		why := strings.TrimPrefix(err.Error(), hub.ErrEvicted.Error()+": ")
		log.Warn("session evicted", "room", r.info.ID, "reason", why)
		return "disconnected: this session fell too far behind the chat (" + why + ")", true
	case errors.Is(err, hub.ErrDropped):
		why := strings.TrimPrefix(err.Error(), hub.ErrDropped.Error()+": ")
		if direct {
			return "disconnected: " + why, true
		}
		return why, false
	case direct:
		return "session ended", true
	}
	return "", false // a /part
}

// enterFirst puts a new session in the room it asked for, or else the
// lobby: a room it may not enter (not a room name, invite only, a ban)
// opens the lobby instead, with a line that says why.
func (s *Server) enterFirst(seat *chat.Seat, room string) (first roomStream, refused string, err error) {
	if room != "" {
		sub, info, err := seat.Join(room, s.cfg.Backlog)
		if err == nil {
			return roomStream{info: info, sub: sub}, "", nil
		}
		refused = err.Error()
	}
	sub, info, err := seat.Join(s.chat.Lobby(), s.cfg.Backlog)
	if err != nil {
		if s.closing.Load() {
			err = fmt.Errorf("%w: %w", hub.ErrClosed, err)
		}
		return roomStream{}, "", err
	}
	return roomStream{info: info, sub: sub}, refused, nil
}

// roomView is a room as the program is given it: its backlog, with the
// user's direct messages of direct (nil: none) among it in ID order, both
// filtered for the user.
func roomView(seat *chat.Seat, r roomStream, direct *hub.Subscription) ui.RoomView {
	history := r.sub.History()
	if direct != nil {
		history = slices.SortedStableFunc(slices.Values(slices.Concat(history, direct.History())),
			func(a, b hub.Event) int { return cmp.Compare(a.ID, b.ID) })
	}
	return ui.RoomView{ID: r.info.ID, Topic: r.info.Topic, History: seat.Visible(history)}
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
