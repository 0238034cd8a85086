package chat

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/registry"
	"github.com/sshchat/sshchat/sanitize"
)

// The commands of rooms, and what they share with the others.

func (s *Seat) cmdJoin(_ *room, args string) (string, error) {
	if args == "" || strings.ContainsAny(args, " \t") {
		return "", errUsage
	}
	sub, info, err := s.Join(args, s.core.cfg.Backlog)
	if errors.Is(err, ErrInRoom) {
		return fmt.Sprintf("you are in #%s", strings.TrimPrefix(strings.ToLower(args), "#")), nil
	}
	if err != nil {
		return "", err
	}
	s.session.sess.Enter(info, sub)
	return "", nil
}

// roomArg reads "[#ROOM] [REST]": the room named first (with its '#'),
// else r, the room of the command.
func (s *Seat) roomArg(r *room, args string) (*room, string, error) {
	if strings.HasPrefix(args, "#") {
		name, rest, _ := strings.Cut(args, " ")
		named, ok := s.core.find(name)
		if !ok {
			return nil, "", fmt.Errorf("there is no room %s", name)
		}
		return named, strings.TrimSpace(rest), nil
	}
	if r == nil {
		return nil, "", errors.New("you are in no room: name one (#ROOM)")
	}
	return r, args, nil
}

func (s *Seat) cmdPart(r *room, args string) (string, error) {
	r, reason, err := s.roomArg(r, args)
	if err != nil {
		return "", err
	}
	reason = sanitize.Line(reason)
	if len(reason) > 200 {
		return "", errors.New("the reason is too long: at most 200 bytes")
	}
	return "", s.Part(r.id, reason)
}

func (s *Seat) cmdRooms(_ *room, args string) (string, error) {
	if args != "" {
		return "", errUsage
	}
	rooms := s.core.Rooms(s.user.userID)
	var b strings.Builder
	fmt.Fprintf(&b, "rooms: %d", len(rooms))
	mine := s.Rooms()
	for _, ri := range rooms {
		mark := " "
		if slices.Contains(mine, ri.ID) {
			mark = "*"
		}
		fmt.Fprintf(&b, "\n %s #%-20s %4d  %s", mark, ri.ID, ri.Members, roomFlags(ri))
		if ri.Topic != "" {
			b.WriteString("  " + ri.Topic)
		}
	}
	return b.String(), nil
}

func roomFlags(ri RoomInfo) string {
	switch {
	case ri.InviteOnly:
		return "+i"
	case ri.Private:
		return "+p"
	}
	return "  "
}

func (s *Seat) cmdTopic(r *room, args string) (string, error) {
	rec := s.core.record(r)
	if args == "" {
		if rec.Topic == "" {
			return fmt.Sprintf("#%s has no topic", r.id), nil
		}
		return fmt.Sprintf("the topic of #%s: %s", r.id, rec.Topic), nil
	}
	if !s.core.mayModerate(s.user.userID, r, rec) {
		return "", fmt.Errorf("the topic of #%s is set by its owner and operators", r.id)
	}
	text := strings.TrimSpace(sanitize.Line(args))
	if text == "-" || text == `""` {
		text = ""
	}
	err := s.core.reg.UpdateRoom(r.id, func(rm *registry.Room) (bool, error) {
		rm.Topic = text
		return true, nil
	})
	if err != nil {
		return "", roomRefusal(r, err)
	}
	return "", r.hub.Post(hub.Event{Type: hub.EventTypeTopic, UserID: s.user.userID, Message: text})
}

func (s *Seat) cmdOp(r *room, args string) (string, error) { return s.setOp(r, args, true) }

func (s *Seat) cmdDeop(r *room, args string) (string, error) { return s.setOp(r, args, false) }

// setOp makes the user args names an operator of r, or not.
func (s *Seat) setOp(r *room, args string, op bool) (string, error) {
	rec := s.core.record(r)
	if r == s.core.lobby {
		return "", fmt.Errorf("#%s is the server's: its admins moderate it", r.id)
	}
	if rec.Owner != s.user.userID && !s.core.isAdmin(s.user.userID) {
		return "", fmt.Errorf("operators of #%s are named by its owner", r.id)
	}
	id, err := s.core.lookup(args)
	if err != nil {
		return "", err
	}
	if id == rec.Owner {
		return "", fmt.Errorf("%s owns #%s", args, r.id)
	}
	err = s.core.reg.UpdateRoom(r.id, func(rm *registry.Room) (bool, error) {
		i := slices.Index(rm.Ops, id)
		switch {
		case op && i >= 0, !op && i < 0:
			return false, nil
		case op:
			rm.Ops = append(rm.Ops, id)
		default:
			rm.Ops = slices.Delete(rm.Ops, i, i+1)
		}
		return true, nil
	})
	if err != nil {
		return "", roomRefusal(r, err)
	}
	typ := hub.EventTypeOp
	if !op {
		typ = hub.EventTypeDeop
	}
	return "", r.hub.Post(hub.Event{Type: typ, UserID: s.user.userID, To: id, ToName: args})
}

func (s *Seat) cmdMode(r *room, args string) (string, error) {
	if r == s.core.lobby {
		return "", fmt.Errorf("#%s is open to everyone: it is the default room", r.id)
	}
	err := s.core.reg.UpdateRoom(r.id, func(rm *registry.Room) (bool, error) {
		switch args {
		case "+i":
			rm.InviteOnly = true
		case "-i":
			rm.InviteOnly = false
		case "+p":
			rm.Private = true
		case "-p":
			rm.Private = false
		default:
			return false, errUsage
		}
		return true, nil
	})
	if err != nil {
		return "", roomRefusal(r, err)
	}
	return "", r.hub.Post(hub.Event{Type: hub.EventTypeMode, UserID: s.user.userID, Message: args})
}

func (s *Seat) cmdInvite(r *room, args string) (string, error) {
	id, err := s.core.lookup(args)
	if err != nil {
		return "", err
	}
	err = s.core.reg.UpdateRoom(r.id, func(rm *registry.Room) (bool, error) {
		if slices.Contains(rm.Invited, id) {
			return false, nil
		}
		rm.Invited = append(rm.Invited, id)
		return true, nil
	})
	if err != nil {
		return "", roomRefusal(r, err)
	}
	if err := r.hub.Post(hub.Event{Type: hub.EventTypeInvite, UserID: s.user.userID, To: id, ToName: args}); err != nil {
		return "", err
	}
	// The invited user hears of it wherever it is.
	_ = s.core.direct.Post(hub.Event{Type: hub.EventTypeDirect, UserID: s.user.userID, To: id,
		Message: fmt.Sprintf("invites you to #%s: /join #%s", r.id, r.id)})
	return fmt.Sprintf("%s may now /join #%s", args, r.id), nil
}

func (s *Seat) cmdDrop(r *room, args string) (string, error) {
	r, reason, err := s.roomArg(r, args)
	if err != nil {
		return "", err
	}
	if rec := s.core.record(r); rec.Owner != s.user.userID && !s.core.isAdmin(s.user.userID) {
		return "", fmt.Errorf("#%s is dropped by its owner or an admin", r.id)
	}
	if err := s.core.drop(s.user.userID, r, sanitize.Line(reason)); err != nil {
		return "", err
	}
	return fmt.Sprintf("#%s is dropped", r.id), nil
}

// roomRefusal says in words why a change to r's record failed.
func roomRefusal(r *room, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errUsage):
		return err
	case errors.Is(err, registry.ErrNoRoom):
		return fmt.Errorf("#%s is gone", r.id)
	case errors.Is(err, registry.ErrRoomListLimit):
		return fmt.Errorf("#%s can't keep more: %w", r.id, err)
	}
	return fmt.Errorf("#%s: %w", r.id, err)
}

// renameIn tells each of rooms, and the direct messages, that userID is
// now called name.
func (c *Core) renameIn(userID, name string, rooms []string) error {
	for _, id := range rooms {
		r, ok := c.find(id)
		if !ok {
			continue
		}
		if err := r.hub.Rename(userID, name); err != nil && !errors.Is(err, hub.ErrNotFound) {
			return err
		}
	}
	if err := c.direct.Rename(userID, name); err != nil && !errors.Is(err, hub.ErrNotFound) {
		return err
	}
	return nil
}

// postWhereIs posts ev (away, back) in every room u is in.
func (c *Core) postWhereIs(u *online, ev hub.Event) error {
	var errs []error
	for _, id := range c.presence.roomsOfUser(u.userID) {
		if r, ok := c.find(id); ok {
			if err := r.hub.Post(ev); err != nil && !errors.Is(err, hub.ErrClosed) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
