package chat

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/registry"
	"github.com/sshchat/sshchat/sanitize"
)

// command is a slash command the core runs for a session, in the context
// of a room. The list below is the only place one is declared: /help and
// Tab come from it.
type command struct {
	name, args, help string
	admin            bool // server admins only
	posts            bool // the command posts an event: see mayPost
	events           bool // it makes events of rooms, not posts: it takes a token of the room commands' rate (roomBurst), and a mute does not stop it
	mod              bool // moderation of the room: its owner, operators, admins (in the lobby, server-wide: admins)
	room             bool // needs a room the session is in
	run              func(s *Seat, r *room, args string) (string, error)
}

var commands = []command{
	{name: "nick", args: "NEW", help: "change your name, for all your sessions", posts: true, run: (*Seat).cmdNick},
	{name: "me", args: "ACTION", help: "say what you do: /me waves", room: true, run: (*Seat).cmdMe},
	{name: "msg", args: "NAME TEXT", help: "a direct message: only NAME and you see it, in any room", run: (*Seat).cmdMsg},
	{name: "who", help: "who is in this room", run: (*Seat).cmdWho},
	{name: "whois", args: "NAME", help: "a user's key, sessions and status", run: (*Seat).cmdWhois},
	{name: "away", args: "[REASON]", help: "mark yourself away", posts: true, run: (*Seat).cmdAway},
	{name: "back", help: "you are back", posts: true, run: (*Seat).cmdBack},
	{name: "ignore", args: "NAME", help: "hide NAME's messages from you, for good", run: (*Seat).cmdIgnore},
	{name: "unignore", args: "NAME", help: "show NAME's messages again", run: (*Seat).cmdUnignore},
	{name: "sessions", help: "your sessions: where from, since when, idle", run: (*Seat).cmdSessions},
	{name: "detach", args: "N", help: "end your session number N (see /sessions)", run: (*Seat).cmdDetach},
	{name: "join", args: "#ROOM", help: "go into a room (it is made if it does not exist: you own it)", events: true, run: (*Seat).cmdJoin},
	{name: "part", args: "[#ROOM] [REASON]", help: "leave this room, or #ROOM", events: true, run: (*Seat).cmdPart},
	{name: "rooms", help: "the rooms, with how many are in each and their topics", run: (*Seat).cmdRooms},
	{name: "topic", args: "[TEXT]", help: "set this room's topic (empty clears it); without TEXT, show it", room: true, events: true, run: (*Seat).cmdTopic},
	{name: "op", args: "NAME", help: "make NAME an operator of this room (its owner)", room: true, events: true, run: (*Seat).cmdOp},
	{name: "deop", args: "NAME", help: "NAME is no longer an operator of this room (its owner)", room: true, events: true, run: (*Seat).cmdDeop},
	{name: "mode", args: "+i|-i|+p|-p", help: "this room invite only (+i) or open (-i), private to its members (+p) or listed (-p)", mod: true, room: true, run: (*Seat).cmdMode},
	{name: "invite", args: "NAME", help: "let NAME into this invite-only room", mod: true, room: true, run: (*Seat).cmdInvite},
	{name: "drop", args: "[#ROOM] [REASON]", help: "remove this room, or #ROOM, for good (its owner)", events: true, run: (*Seat).cmdDrop},
	{name: "kick", args: "NAME [REASON]", help: "put NAME out of this room (in the lobby: disconnect them)", mod: true, room: true, run: (*Seat).cmdKick},
	{name: "ban", args: "NAME [DURATION] [REASON]", help: "keep NAME out of this room (in the lobby: the server), for DURATION (e.g. 2h) or for good", mod: true, room: true, run: (*Seat).cmdBan},
	{name: "unban", args: "NAME|FINGERPRINT", help: "lift a ban of this room (in the lobby: of the server)", mod: true, room: true, run: (*Seat).cmdUnban},
	{name: "banned", help: "list the bans of this room (in the lobby: of the server)", mod: true, room: true, run: (*Seat).cmdBanned},
	{name: "mute", args: "NAME [DURATION]", help: "NAME's messages are refused in this room (in the lobby: everywhere), for DURATION or for good", mod: true, room: true, run: (*Seat).cmdMute},
	{name: "unmute", args: "NAME", help: "lift a mute of this room (in the lobby: of the server)", mod: true, room: true, run: (*Seat).cmdUnmute},
	{name: "release", args: "NAME", help: "free a name its key no longer needs, for another key to take", admin: true, run: (*Seat).cmdRelease},
	{name: "motd", args: "[TEXT]", help: "set the message of the day shown on connect (empty clears it)", admin: true, run: (*Seat).cmdMotd},
}

// CommandInfo describes a slash command, for /help and Tab completion.
type CommandInfo struct{ Name, Args, Help string }

// Commands lists the slash commands the user may run: the moderation of
// a room for everyone (a room's owner and operators are anyone), the
// server's for its admins.
func (s *Seat) Commands() []CommandInfo {
	var out []CommandInfo
	for _, c := range commands {
		if !c.admin || s.core.isAdmin(s.user.userID) {
			out = append(out, CommandInfo{Name: c.name, Args: c.args, Help: c.help})
		}
	}
	return out
}

// Run runs the slash command /name args for the user, in the context of
// roomName (the room its screen shows; "" for none), and returns its reply, or
// says in words why it did not run. A command that puts the session in a
// room (/join) tells it through Session.Enter.
func (s *Seat) Run(roomName, name, args string) (string, error) {
	s.session.touch()
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 || commands[i].admin && !s.core.isAdmin(s.user.userID) {
		return "", fmt.Errorf("unknown command /%s: /help lists them", name)
	}
	c := commands[i]
	var r *room
	if roomName != "" {
		r, _ = s.in(roomName)
	}
	if c.room && r == nil {
		if roomName == "" {
			return "", fmt.Errorf("/%s is for a room, and you are in none: /join one", c.name)
		}
		_, err := s.in(roomName)
		return "", err
	}
	if c.mod && !s.core.mayModerate(s.user.userID, r, s.core.record(r)) {
		if r == s.core.lobby {
			return "", fmt.Errorf("/%s in #%s is for the server's admins", c.name, r.id)
		}
		return "", fmt.Errorf("/%s is for the owner and operators of #%s", c.name, r.id)
	}
	if err := s.core.mayPost(s.user.userID, r, c); err != nil {
		return "", err
	}
	reply, err := c.run(s, r, strings.TrimSpace(args))
	if errors.Is(err, errUsage) {
		return "", fmt.Errorf("usage: /%s %s", c.name, c.args)
	}
	return reply, err
}

// mayPost says why a user may not run a command that posts an event: a
// mute, or the user's message rate, which such commands share with
// messages (each one is a line on every screen). Moderation takes a token
// too. /me and /msg are checked as messages are (checkOutgoing).
func (c *Core) mayPost(userID string, r *room, cmd command) error {
	if cmd.events {
		return c.throttleRooms(userID)
	}
	if !cmd.posts && !cmd.admin && !cmd.mod {
		return nil
	}
	if cmd.posts {
		if err := c.muted(userID, r); err != nil {
			return err
		}
	}
	return c.throttle(userID)
}

// target finds the online user a command names.
func (c *Core) target(name string) (*online, error) {
	if name == "" {
		return nil, errUsage
	}
	u, ok := c.presence.find(strings.TrimPrefix(name, "@"))
	if !ok {
		return nil, fmt.Errorf("%s is not online", name)
	}
	return u, nil
}

func (s *Seat) cmdNick(r *room, args string) (string, error) {
	if args == "" || strings.ContainsAny(args, " \t") {
		return "", errUsage
	}
	if !validName(args) {
		return "", fmt.Errorf("%q is not a usable name: 2-24 of A-Z a-z 0-9 _ . -", args)
	}
	switch _, err := s.core.presence.rename(s.user.userID, args, s.core.renameIn); {
	case errors.Is(err, errNotSaved):
		s.core.log.Error("save the registry", "err", err)
		return "", fmt.Errorf("you are %s for now, but the server could not save it (%v): it may be lost if the server restarts", args, err)
	case err != nil:
		return "", err
	}
	return "", nil
}

func (s *Seat) cmdMe(r *room, args string) (string, error) {
	text, err := s.core.checkOutgoing(s.user.userID, r, args)
	if err != nil {
		return "", err
	}
	return "", r.hub.Post(hub.Event{Type: hub.EventTypeAction, UserID: s.user.userID, Message: text})
}

func (s *Seat) cmdMsg(r *room, args string) (string, error) {
	name, text, _ := strings.Cut(args, " ")
	if strings.TrimSpace(text) == "" {
		return "", errUsage
	}
	to, err := s.core.target(name)
	if err != nil {
		return "", err
	}
	text, err = s.core.checkOutgoing(s.user.userID, nil, text)
	if err != nil {
		return "", err
	}
	return "", s.core.direct.Post(hub.Event{Type: hub.EventTypeDirect, UserID: s.user.userID, To: to.userID, Message: text})
}

func (s *Seat) cmdWho(r *room, args string) (string, error) {
	if args != "" {
		return "", errUsage
	}
	if r == nil {
		return "", errors.New("you are in no room: /join one")
	}
	now := time.Now()
	users := s.core.presence.all(r.id, now)
	var b strings.Builder
	fmt.Fprintf(&b, "in #%s: %d", r.id, len(users))
	for _, v := range users {
		fmt.Fprintf(&b, "\n  %-24s %s   idle %s", v.name+awayNote(v), plural(v.sessions, "session"), short(v.idle))
	}
	return b.String(), nil
}

func (s *Seat) cmdWhois(r *room, args string) (string, error) {
	u, err := s.core.target(args)
	if err != nil {
		return "", err
	}
	now := time.Now()
	v := s.core.presence.view(u, now)
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s\n  key       %s\n  sessions  %d\n  online    since %s (%s)\n  idle      %s",
		v.name, awayNote(v), v.userID, v.sessions, v.since.Format("2006-01-02 15:04"), short(now.Sub(v.since)), short(v.idle))
	if s.core.isAdmin(v.userID) {
		b.WriteString("\n  admin")
	}
	return b.String(), nil
}

func awayNote(v userView) string {
	switch {
	case !v.away:
		return ""
	case v.awayWhy == "":
		return " (away)"
	default:
		return " (away: " + v.awayWhy + ")"
	}
}

func (s *Seat) cmdAway(r *room, args string) (string, error) {
	why := strings.TrimSpace(sanitize.Line(args))
	if len(why) > 200 {
		return "", fmt.Errorf("the reason is too long: at most 200 bytes")
	}
	s.core.presence.setAway(s.user, true, why)
	return "", s.core.postWhereIs(s.user, hub.Event{Type: hub.EventTypeAway, UserID: s.user.userID, Message: why})
}

func (s *Seat) cmdBack(r *room, args string) (string, error) {
	if args != "" {
		return "", errUsage
	}
	s.core.presence.setAway(s.user, false, "")
	return "", s.core.postWhereIs(s.user, hub.Event{Type: hub.EventTypeBack, UserID: s.user.userID})
}

// lookup finds a user by online name, owned name or fingerprint.
func (c *Core) lookup(name string) (userID string, err error) {
	if name == "" || strings.ContainsAny(name, " \t") {
		return "", errUsage
	}
	if u, ok := c.presence.find(name); ok {
		return u.userID, nil
	}
	if id, ok := c.reg.UserByName(name); ok {
		return id, nil
	}
	return "", fmt.Errorf("nobody is known by the name %s", name)
}

func (s *Seat) cmdIgnore(r *room, args string) (string, error) {
	id, err := s.core.lookup(args)
	if err != nil {
		return "", err
	}
	if id == s.user.userID {
		return "", fmt.Errorf("you can't ignore yourself")
	}
	if err := s.core.reg.Ignore(s.user.userID, id); err != nil {
		return "", ignoreRefusal(args, err)
	}
	s.core.refreshIgnores(s.user)
	return fmt.Sprintf("you no longer see messages from %s (%s)", args, id), nil
}

func (s *Seat) cmdUnignore(r *room, args string) (string, error) {
	id, err := s.core.lookup(args)
	if err != nil {
		return "", err
	}
	was, err := s.core.reg.Unignore(s.user.userID, id)
	if err != nil {
		return "", err
	}
	if !was {
		return "", fmt.Errorf("you were not ignoring %s", args)
	}
	s.core.refreshIgnores(s.user)
	return fmt.Sprintf("you see messages from %s again", args), nil
}

func (c *Core) refreshIgnores(u *online) {
	set := c.reg.Ignored(u.userID)
	u.ignored.Store(&set)
}

func (s *Seat) cmdSessions(r *room, args string) (string, error) {
	if args != "" {
		return "", errUsage
	}
	now := time.Now()
	var b strings.Builder
	for i, si := range s.core.presence.sessionsOf(s.user) {
		if !si.counted {
			continue
		}
		this := ""
		if si == s.session {
			this = "  (this one)"
		}
		fmt.Fprintf(&b, "%d  from %-21s since %s  idle %s%s\n", i+1, si.sess.Remote(), si.since.Format("15:04"), short(si.idle(now)), this)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func (s *Seat) cmdDetach(r *room, args string) (string, error) {
	n, err := strconv.Atoi(args)
	if err != nil {
		return "", errUsage
	}
	sessions := s.core.presence.sessionsOf(s.user)
	if n < 1 || n > len(sessions) || !sessions[n-1].counted {
		return "", fmt.Errorf("you have no session %d: /sessions lists them", n)
	}
	sessions[n-1].sess.End("detached from another of your sessions")
	return fmt.Sprintf("session %d detached", n), nil
}

// Moderation. In the lobby it is the server's, by its admins: a kick
// disconnects, a ban keeps the key out, a mute holds in every room; the
// events are in the lobby. In any other room it is that room's, by its
// owner, operators and the admins: a kick or ban puts the user out of
// the room (the streams end with hub.ErrDropped), a mute holds there.

func (s *Seat) cmdKick(r *room, args string) (string, error) {
	name, reason, _ := strings.Cut(args, " ")
	u, err := s.core.target(name)
	if err != nil {
		return "", err
	}
	reason = sanitize.Line(strings.TrimSpace(reason))
	if r != s.core.lobby && !slices.Contains(s.core.presence.roomsOfUser(u.userID), r.id) {
		return "", fmt.Errorf("%s is not in #%s", name, r.id)
	}
	if err := r.hub.Post(hub.Event{Type: hub.EventTypeKick, UserID: s.user.userID, To: u.userID, Reason: reason}); err != nil {
		return "", err
	}
	why := moderationReason("kicked", s.core.presence.nameOf(s.user), reason, 0)
	if r == s.core.lobby {
		s.core.disconnect(u.userID, why)
		return "", nil
	}
	s.core.putOut(u.userID, r, "kicked from #"+r.id+": "+why)
	return "", nil
}

func (s *Seat) cmdBan(r *room, args string) (string, error) {
	name, rest, _ := strings.Cut(args, " ")
	id, err := s.core.lookup(name)
	if err != nil {
		return "", err
	}
	if id == s.user.userID {
		return "", fmt.Errorf("you can't ban yourself")
	}
	until, reason, err := durationAndReason(rest)
	if err != nil {
		return "", err
	}
	by := s.user.userID
	x := registry.Restriction{Until: until, Reason: reason, By: by, At: time.Now().Unix()}
	if r == s.core.lobby {
		err = s.core.reg.Ban(id, x)
	} else {
		err = s.core.restrictIn(r, id, x, func(rm *registry.Room) *map[string]registry.Restriction { return &rm.Bans })
	}
	if err != nil {
		return "", err
	}
	if err := r.hub.Post(hub.Event{Type: hub.EventTypeBan, UserID: by, To: id, ToName: name, Reason: reason, Until: until}); err != nil {
		return "", err
	}
	why := moderationReason("banned", s.core.presence.nameOf(s.user), reason, until)
	if r == s.core.lobby {
		s.core.disconnect(id, why)
		return "", nil
	}
	s.core.putOut(id, r, "banned from #"+r.id+": "+why)
	return "", nil
}

// restrictIn records a ban or mute (the map field picks which) of userID
// in room r.
func (c *Core) restrictIn(r *room, userID string, x registry.Restriction, field func(*registry.Room) *map[string]registry.Restriction) error {
	err := c.reg.UpdateRoom(r.id, func(rm *registry.Room) (bool, error) {
		m := field(rm)
		if *m == nil {
			*m = map[string]registry.Restriction{}
		}
		(*m)[userID] = x
		return true, nil
	})
	return roomRefusal(r, err)
}

// disconnect puts userID out of every room and of the direct messages,
// and ends its sessions: a kick or ban from the server.
func (c *Core) disconnect(userID, why string) {
	c.mu.Lock()
	rooms := slices.Collect(maps.Values(c.rooms))
	c.mu.Unlock()
	in := c.presence.roomsOfUser(userID)
	for _, r := range rooms {
		if slices.Contains(in, r.id) {
			c.putOut(userID, r, why)
		}
	}
	_ = c.direct.Drop(userID, why)
	for _, si := range c.presence.sessionsByID(userID) {
		si.sess.End("disconnected: " + why) // as the end of its direct messages says it: whichever comes first
	}
}

func (s *Seat) cmdUnban(r *room, args string) (string, error) {
	if r == s.core.lobby {
		return s.lift(r, args, "banned", s.core.reg.Unban, hub.EventTypeUnban)
	}
	return s.lift(r, args, "banned from #"+r.id, s.core.liftIn(r, func(rm *registry.Room) *map[string]registry.Restriction { return &rm.Bans }), hub.EventTypeUnban)
}

// liftIn is what lifts a ban or mute (the map field picks which) in room r.
func (c *Core) liftIn(r *room, field func(*registry.Room) *map[string]registry.Restriction) func(userID string) (bool, error) {
	return func(userID string) (bool, error) {
		found := false
		err := c.reg.UpdateRoom(r.id, func(rm *registry.Room) (bool, error) {
			m := field(rm)
			if _, found = (*m)[userID]; found {
				delete(*m, userID)
			}
			return found, nil
		})
		return found, roomRefusal(r, err)
	}
}

func (s *Seat) cmdBanned(r *room, args string) (string, error) {
	if args != "" {
		return "", errUsage
	}
	now := time.Now()
	bans := s.core.reg.Bans(now)
	where := ""
	if r != s.core.lobby {
		bans = map[string]registry.Restriction{}
		for id, b := range s.core.record(r).Bans {
			if b.Active(now) {
				bans[id] = b
			}
		}
		where = " from #" + r.id
	}
	if len(bans) == 0 {
		return "nobody is banned" + where, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "banned%s: %d", where, len(bans))
	for _, id := range slices.Sorted(maps.Keys(bans)) {
		x := bans[id]
		name := s.core.reg.NameOf(id)
		fmt.Fprintf(&b, "\n  %-16s %s  %s", name, id, until(x.Until))
		if x.Reason != "" {
			b.WriteString("  (" + x.Reason + ")")
		}
	}
	return b.String(), nil
}

func (s *Seat) cmdMute(r *room, args string) (string, error) {
	name, rest, _ := strings.Cut(args, " ")
	id, err := s.core.lookup(name)
	if err != nil {
		return "", err
	}
	until, reason, err := durationAndReason(rest)
	if err != nil {
		return "", err
	}
	x := registry.Restriction{Until: until, Reason: reason, By: s.user.userID, At: time.Now().Unix()}
	if r == s.core.lobby {
		err = s.core.reg.Mute(id, x)
	} else {
		err = s.core.restrictIn(r, id, x, func(rm *registry.Room) *map[string]registry.Restriction { return &rm.Mutes })
	}
	if err != nil {
		return "", err
	}
	return "", r.hub.Post(hub.Event{Type: hub.EventTypeMute, UserID: s.user.userID, To: id, ToName: name, Reason: reason, Until: until})
}

func (s *Seat) cmdUnmute(r *room, args string) (string, error) {
	if r == s.core.lobby {
		return s.lift(r, args, "muted", s.core.reg.Unmute, hub.EventTypeUnmute)
	}
	return s.lift(r, args, "muted in #"+r.id, s.core.liftIn(r, func(rm *registry.Room) *map[string]registry.Restriction { return &rm.Mutes }), hub.EventTypeUnmute)
}

// lift ends a restriction (a ban, a mute) of the user args names, with
// unrestrict, and tells room r with an event of type typ.
func (s *Seat) lift(r *room, args, what string, unrestrict func(userID string) (bool, error), typ string) (string, error) {
	id, err := s.core.lookup(args)
	if err != nil {
		return "", err
	}
	was, err := unrestrict(id)
	if err != nil {
		return "", err
	}
	if !was {
		return "", fmt.Errorf("%s is not %s", args, what)
	}
	return "", r.hub.Post(hub.Event{Type: typ, UserID: s.user.userID, To: id, ToName: args})
}

func (s *Seat) cmdMotd(r *room, args string) (string, error) {
	text := strings.TrimSpace(sanitize.Line(args))
	if len(text) > s.core.cfg.MaxMessage {
		return "", fmt.Errorf("the message of the day is over %d bytes", s.core.cfg.MaxMessage)
	}
	if err := s.core.reg.SetMotd(text); err != nil {
		return "", err
	}
	return "", s.core.lobby.hub.Post(hub.Event{Type: hub.EventTypeMotd, UserID: s.user.userID, Message: text})
}

// durationAndReason reads "[DURATION] [REASON]": a leading Go duration
// (2h, 30m, 7d is 168h) bounds the restriction; without one it holds for
// good (until 0).
func durationAndReason(rest string) (until int64, reason string, err error) {
	rest = strings.TrimSpace(rest)
	first, after, _ := strings.Cut(rest, " ")
	if d, ok := parseDuration(first); ok {
		if d <= 0 {
			return 0, "", fmt.Errorf("the duration must be positive")
		}
		return time.Now().Add(d).Unix(), sanitize.Line(strings.TrimSpace(after)), nil
	}
	return 0, sanitize.Line(rest), nil
}

func parseDuration(s string) (time.Duration, bool) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		return time.Duration(n) * 24 * time.Hour, err == nil
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

func moderationReason(what, by, reason string, untilUnix int64) string {
	r := what + " by " + by
	if untilUnix != 0 {
		r += " " + until(untilUnix)
	}
	if reason != "" {
		r += ": " + reason
	}
	return r
}

func until(unix int64) string {
	if unix == 0 {
		return "for good"
	}
	return "until " + time.Unix(unix, 0).UTC().Format("2006-01-02 15:04 UTC")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// short formats a duration as people read it in a list: 12s, 3m, 5h, 2d.
func short(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	default:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
}

// cmdRelease frees a name held by a key, so that another key may take it.
func (s *Seat) cmdRelease(r *room, args string) (string, error) {
	if args == "" || strings.ContainsAny(args, " \t") {
		return "", errUsage
	}
	owner, err := s.core.presence.releaseName(args)
	if err != nil {
		return "", err
	}
	err = s.core.lobby.hub.Post(hub.Event{Type: hub.EventTypeRelease, UserID: s.user.userID, To: owner, ToName: s.core.reg.NameOf(owner), Message: args})
	return fmt.Sprintf("the name %s is free (it was %s's)", args, owner), err
}

// ignoreRefusal says in words why name can't be ignored.
func ignoreRefusal(name string, err error) error {
	switch {
	case errors.Is(err, registry.ErrUnknownUser):
		return fmt.Errorf("nobody is known by %.80s", name)
	case errors.Is(err, registry.ErrIgnoreLimit):
		return fmt.Errorf("you ignore %d users, the most: /unignore one first", registry.MaxIgnores)
	}
	return err
}

// scriptName is the name a script command asks for: the one its key goes
// by, so that a script never renames it; a new key's is the SSH user name.
func (c *Core) scriptName(userID, user string) string {
	if name := c.reg.NameOf(userID); name != "" {
		return name
	}
	return user
}
