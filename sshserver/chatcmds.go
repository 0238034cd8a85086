package sshserver

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
	"github.com/sshchat/sshchat/ui"
)

// chatCommand is a slash command the server runs for a session. The list
// below is the only place one is declared: /help and Tab come from it.
type chatCommand struct {
	name, args, help string
	admin            bool
	posts            bool // the command posts an event: see mayPost
	run              func(s *Server, c *chatCall, args string) (string, error)
}

// chatCall is one command being run, by a user from one of its sessions.
type chatCall struct {
	user    *online
	session *sessionInfo
}

var chatCommands = []chatCommand{
	{name: "nick", args: "NEW", help: "change your name, for all your sessions", posts: true, run: (*Server).cmdNick},
	{name: "me", args: "ACTION", help: "say what you do: /me waves", run: (*Server).cmdMe},
	{name: "msg", args: "NAME TEXT", help: "a direct message: only NAME and you see it", run: (*Server).cmdMsg},
	{name: "who", help: "who is online", run: (*Server).cmdWho},
	{name: "whois", args: "NAME", help: "a user's key, sessions and status", run: (*Server).cmdWhois},
	{name: "away", args: "[REASON]", help: "mark yourself away", posts: true, run: (*Server).cmdAway},
	{name: "back", help: "you are back", posts: true, run: (*Server).cmdBack},
	{name: "ignore", args: "NAME", help: "hide NAME's messages from you, for good", run: (*Server).cmdIgnore},
	{name: "unignore", args: "NAME", help: "show NAME's messages again", run: (*Server).cmdUnignore},
	{name: "sessions", help: "your sessions: where from, since when, idle", run: (*Server).cmdSessions},
	{name: "detach", args: "N", help: "end your session number N (see /sessions)", run: (*Server).cmdDetach},
	{name: "kick", args: "NAME [REASON]", help: "disconnect all of NAME's sessions", admin: true, run: (*Server).cmdKick},
	{name: "ban", args: "NAME [DURATION] [REASON]", help: "refuse NAME's key, for DURATION (e.g. 2h) or for good", admin: true, run: (*Server).cmdBan},
	{name: "unban", args: "NAME|FINGERPRINT", help: "lift a ban", admin: true, run: (*Server).cmdUnban},
	{name: "banned", help: "list the bans", admin: true, run: (*Server).cmdBanned},
	{name: "mute", args: "NAME [DURATION]", help: "NAME's messages are refused, for DURATION or for good", admin: true, run: (*Server).cmdMute},
	{name: "unmute", args: "NAME", help: "lift a mute", admin: true, run: (*Server).cmdUnmute},
	{name: "release", args: "NAME", help: "free a name its key no longer needs, for another key to take", admin: true, run: (*Server).cmdRelease},
	{name: "motd", args: "[TEXT]", help: "set the message of the day shown on connect (empty clears it)", admin: true, run: (*Server).cmdMotd},
}

// commandsFor lists the commands userID may run, for the UI.
func (s *Server) commandsFor(userID string) []ui.CommandInfo {
	var out []ui.CommandInfo
	for _, c := range chatCommands {
		if !c.admin || s.isAdmin(userID) {
			out = append(out, ui.CommandInfo{Name: c.name, Args: c.args, Help: c.help})
		}
	}
	return out
}

// runner returns the function the UI runs server commands with.
func (s *Server) runner(u *online, si *sessionInfo) func(name, args string) (string, error) {
	return func(name, args string) (string, error) {
		si.touch()
		i := slices.IndexFunc(chatCommands, func(c chatCommand) bool { return c.name == name })
		if i < 0 || chatCommands[i].admin && !s.isAdmin(u.userID) {
			return "", fmt.Errorf("unknown command /%s: /help lists them", name)
		}
		c := chatCommands[i]
		if err := s.mayPost(u.userID, c); err != nil {
			return "", err
		}
		reply, err := c.run(s, &chatCall{user: u, session: si}, strings.TrimSpace(args))
		if errors.Is(err, errUsage) {
			return "", fmt.Errorf("usage: /%s %s", c.name, c.args)
		}
		return reply, err
	}
}

var errUsage = errors.New("usage")

// mayPost says why a user may not run a command that posts an event: a
// mute, or the user's message rate, which such commands share with
// messages (each one is a line on every screen). Moderation takes a token
// too. /me and /msg are checked as messages are (checkOutgoing).
func (s *Server) mayPost(userID string, c chatCommand) error {
	if !c.posts && !c.admin {
		return nil
	}
	if m, muted := s.reg.Muted(userID, time.Now()); muted && c.posts {
		return fmt.Errorf("you are muted %s", until(m.Until))
	}
	return s.throttle(userID)
}

// target finds the online user a command names.
func (s *Server) target(name string) (*online, error) {
	if name == "" {
		return nil, errUsage
	}
	u, ok := s.presence.find(strings.TrimPrefix(name, "@"))
	if !ok {
		return nil, fmt.Errorf("%s is not online", name)
	}
	return u, nil
}

func (s *Server) cmdNick(c *chatCall, args string) (string, error) {
	if args == "" || strings.ContainsAny(args, " \t") {
		return "", errUsage
	}
	if !validName(args) {
		return "", fmt.Errorf("%q is not a usable name: 2-24 of A-Z a-z 0-9 _ . -", args)
	}
	old, err := s.presence.rename(c.user.userID, args)
	saved := err
	switch {
	case errors.Is(err, errNotSaved):
		s.log.Error("save the registry", "err", err)
	case err != nil:
		return "", err
	}
	if old != args {
		if err := s.hub.Rename(c.user.userID, args); err != nil {
			return "", fmt.Errorf("rename: %w", err)
		}
	}
	if saved != nil {
		return "", fmt.Errorf("you are %s for now, but the server could not save it (%v): it may be lost if the server restarts", args, saved)
	}
	return "", nil
}

func (s *Server) cmdMe(c *chatCall, args string) (string, error) {
	text, err := s.checkOutgoing(c.user.userID, args)
	if err != nil {
		return "", err
	}
	return "", s.hub.Post(hub.Event{Type: hub.EventTypeAction, UserID: c.user.userID, Message: text})
}

func (s *Server) cmdMsg(c *chatCall, args string) (string, error) {
	name, text, _ := strings.Cut(args, " ")
	if strings.TrimSpace(text) == "" {
		return "", errUsage
	}
	to, err := s.target(name)
	if err != nil {
		return "", err
	}
	text, err = s.checkOutgoing(c.user.userID, text)
	if err != nil {
		return "", err
	}
	return "", s.hub.Post(hub.Event{Type: hub.EventTypeDirect, UserID: c.user.userID, To: to.userID, Message: text})
}

func (s *Server) cmdWho(_ *chatCall, args string) (string, error) {
	if args != "" {
		return "", errUsage
	}
	now := time.Now()
	users := s.presence.all(now)
	var b strings.Builder
	fmt.Fprintf(&b, "online: %d", len(users))
	for _, v := range users {
		fmt.Fprintf(&b, "\n  %-24s %s   idle %s", v.name+awayNote(v), plural(v.sessions, "session"), short(v.idle))
	}
	return b.String(), nil
}

func (s *Server) cmdWhois(_ *chatCall, args string) (string, error) {
	u, err := s.target(args)
	if err != nil {
		return "", err
	}
	now := time.Now()
	v := s.presence.view(u, now)
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s\n  key       %s\n  sessions  %d\n  online    since %s (%s)\n  idle      %s",
		v.name, awayNote(v), v.userID, v.sessions, v.since.Format("2006-01-02 15:04"), short(now.Sub(v.since)), short(v.idle))
	if s.isAdmin(v.userID) {
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

func (s *Server) cmdAway(c *chatCall, args string) (string, error) {
	why := strings.TrimSpace(sanitize.Line(args))
	if len(why) > 200 {
		return "", fmt.Errorf("the reason is too long: at most 200 bytes")
	}
	s.presence.setAway(c.user, true, why)
	return "", s.hub.Post(hub.Event{Type: hub.EventTypeAway, UserID: c.user.userID, Message: why})
}

func (s *Server) cmdBack(c *chatCall, args string) (string, error) {
	if args != "" {
		return "", errUsage
	}
	s.presence.setAway(c.user, false, "")
	return "", s.hub.Post(hub.Event{Type: hub.EventTypeBack, UserID: c.user.userID})
}

// lookup finds a user by online name, owned name or fingerprint.
func (s *Server) lookup(name string) (userID string, err error) {
	if name == "" || strings.ContainsAny(name, " \t") {
		return "", errUsage
	}
	if u, ok := s.presence.find(name); ok {
		return u.userID, nil
	}
	if id, ok := s.reg.UserByName(name); ok {
		return id, nil
	}
	return "", fmt.Errorf("nobody is known by the name %s", name)
}

func (s *Server) cmdIgnore(c *chatCall, args string) (string, error) {
	id, err := s.lookup(args)
	if err != nil {
		return "", err
	}
	if id == c.user.userID {
		return "", fmt.Errorf("you can't ignore yourself")
	}
	if err := s.reg.Ignore(c.user.userID, id); err != nil {
		return "", ignoreRefusal(args, err)
	}
	s.refreshIgnores(c.user)
	return fmt.Sprintf("you no longer see messages from %s (%s)", args, id), nil
}

func (s *Server) cmdUnignore(c *chatCall, args string) (string, error) {
	id, err := s.lookup(args)
	if err != nil {
		return "", err
	}
	was, err := s.reg.Unignore(c.user.userID, id)
	if err != nil {
		return "", err
	}
	if !was {
		return "", fmt.Errorf("you were not ignoring %s", args)
	}
	s.refreshIgnores(c.user)
	return fmt.Sprintf("you see messages from %s again", args), nil
}

func (s *Server) refreshIgnores(u *online) {
	set := s.reg.Ignored(u.userID)
	u.ignored.Store(&set)
}

func (s *Server) cmdSessions(c *chatCall, args string) (string, error) {
	if args != "" {
		return "", errUsage
	}
	now := time.Now()
	var b strings.Builder
	for i, si := range s.presence.sessionsOf(c.user) {
		if !si.counted {
			continue
		}
		this := ""
		if si == c.session {
			this = "  (this one)"
		}
		fmt.Fprintf(&b, "%d  from %-21s since %s  idle %s%s\n", i+1, si.remote, si.since.Format("15:04"), short(si.idle(now)), this)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func (s *Server) cmdDetach(c *chatCall, args string) (string, error) {
	n, err := strconv.Atoi(args)
	if err != nil {
		return "", errUsage
	}
	sessions := s.presence.sessionsOf(c.user)
	if n < 1 || n > len(sessions) || !sessions[n-1].counted {
		return "", fmt.Errorf("you have no session %d: /sessions lists them", n)
	}
	select {
	case sessions[n-1].end <- "detached from another of your sessions":
	default: // already ending
	}
	return fmt.Sprintf("session %d detached", n), nil
}

// Moderation.

func (s *Server) cmdKick(c *chatCall, args string) (string, error) {
	name, reason, _ := strings.Cut(args, " ")
	u, err := s.target(name)
	if err != nil {
		return "", err
	}
	reason = sanitize.Line(strings.TrimSpace(reason))
	if err := s.hub.Post(hub.Event{Type: hub.EventTypeKick, UserID: c.user.userID, To: u.userID, Reason: reason}); err != nil {
		return "", err
	}
	_ = s.hub.Drop(u.userID, moderationReason("kicked", s.presence.nameOf(c.user), reason, 0))
	return "", nil
}

func (s *Server) cmdBan(c *chatCall, args string) (string, error) {
	name, rest, _ := strings.Cut(args, " ")
	id, err := s.lookup(name)
	if err != nil {
		return "", err
	}
	if id == c.user.userID {
		return "", fmt.Errorf("you can't ban yourself")
	}
	until, reason, err := durationAndReason(rest)
	if err != nil {
		return "", err
	}
	by := c.user.userID
	if err := s.reg.Ban(id, registry.Restriction{Until: until, Reason: reason, By: by, At: time.Now().Unix()}); err != nil {
		return "", err
	}
	if err := s.hub.Post(hub.Event{Type: hub.EventTypeBan, UserID: by, To: id, ToName: name, Reason: reason, Until: until}); err != nil {
		return "", err
	}
	_ = s.hub.Drop(id, moderationReason("banned", s.presence.nameOf(c.user), reason, until))
	return "", nil
}

func (s *Server) cmdUnban(c *chatCall, args string) (string, error) {
	id, err := s.lookup(args)
	if err != nil {
		return "", err
	}
	was, err := s.reg.Unban(id)
	if err != nil {
		return "", err
	}
	if !was {
		return "", fmt.Errorf("%s is not banned", args)
	}
	return "", s.hub.Post(hub.Event{Type: hub.EventTypeUnban, UserID: c.user.userID, To: id, ToName: args})
}

func (s *Server) cmdBanned(_ *chatCall, args string) (string, error) {
	if args != "" {
		return "", errUsage
	}
	bans := s.reg.Bans(time.Now())
	if len(bans) == 0 {
		return "nobody is banned", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "banned: %d", len(bans))
	for _, id := range slices.Sorted(maps.Keys(bans)) {
		x := bans[id]
		name := s.reg.NameOf(id)
		fmt.Fprintf(&b, "\n  %-16s %s  %s", name, id, until(x.Until))
		if x.Reason != "" {
			b.WriteString("  (" + x.Reason + ")")
		}
	}
	return b.String(), nil
}

func (s *Server) cmdMute(c *chatCall, args string) (string, error) {
	name, rest, _ := strings.Cut(args, " ")
	id, err := s.lookup(name)
	if err != nil {
		return "", err
	}
	until, reason, err := durationAndReason(rest)
	if err != nil {
		return "", err
	}
	if err := s.reg.Mute(id, registry.Restriction{Until: until, Reason: reason, By: c.user.userID, At: time.Now().Unix()}); err != nil {
		return "", err
	}
	return "", s.hub.Post(hub.Event{Type: hub.EventTypeMute, UserID: c.user.userID, To: id, ToName: name, Reason: reason, Until: until})
}

func (s *Server) cmdUnmute(c *chatCall, args string) (string, error) {
	id, err := s.lookup(args)
	if err != nil {
		return "", err
	}
	was, err := s.reg.Unmute(id)
	if err != nil {
		return "", err
	}
	if !was {
		return "", fmt.Errorf("%s is not muted", args)
	}
	return "", s.hub.Post(hub.Event{Type: hub.EventTypeUnmute, UserID: c.user.userID, To: id, ToName: args})
}

func (s *Server) cmdMotd(c *chatCall, args string) (string, error) {
	text := strings.TrimSpace(sanitize.Line(args))
	if len(text) > s.cfg.MaxMessage {
		return "", fmt.Errorf("the message of the day is over %d bytes", s.cfg.MaxMessage)
	}
	if err := s.reg.SetMotd(text); err != nil {
		return "", err
	}
	return "", s.hub.Post(hub.Event{Type: hub.EventTypeMotd, UserID: c.user.userID, Message: text})
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
