package sshserver

import (
	"fmt"
	"strings"
	"sync"
)

const (
	minNameLen = 2
	maxNameLen = 24
)

// validName reports whether name is 2–24 characters of A-Z a-z 0-9 _ . -
func validName(name string) bool {
	if len(name) < minNameLen || len(name) > maxNameLen {
		return false
	}
	for _, r := range name {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '_', r == '.', r == '-':
		default:
			return false
		}
	}
	return true
}

// shortID is a few characters of a key fingerprint, enough to tell two users
// with the same wanted name apart.
func shortID(userID string) string {
	id := strings.TrimPrefix(userID, "SHA256:")
	var b strings.Builder
	for _, r := range id {
		if b.Len() == 4 {
			break
		}
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// names hands out the display names of the users online: unique, ignoring
// case, for as long as the user has a session.
type names struct {
	mu     sync.Mutex
	byUser map[string]*claim // userID → its name
	owner  map[string]string // lower-case name → userID
}

type claim struct {
	name     string
	sessions int
}

func newNames() *names {
	return &names{byUser: make(map[string]*claim), owner: make(map[string]string)}
}

// acquire gives a session of userID a display name, given the one it asked
// for. A user already online keeps the name it has. The notices tell the
// user why it did not get what it asked for.
func (n *names) acquire(userID, wanted string) (name string, notices []string, sessions int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c := n.byUser[userID]; c != nil {
		c.sessions++
		if !strings.EqualFold(wanted, c.name) {
			notices = []string{fmt.Sprintf("you are already online as %s; this session has that name too", c.name)}
		}
		return c.name, notices, c.sessions
	}
	switch owner, taken := n.owner[strings.ToLower(wanted)]; {
	case !validName(wanted):
		name = n.distinct("user", userID)
		notices = append(notices, fmt.Sprintf("%.40q is not a usable name (2-24 of A-Z a-z 0-9 _ . -): you are %s; connect as ssh NAME@host to choose one", wanted, name))
	case taken && owner != userID:
		name = n.distinct(wanted, userID)
		notices = append(notices, fmt.Sprintf("the name %s is in use by another key: you are %s", wanted, name))
	default:
		name = wanted
	}
	n.byUser[userID] = &claim{name: name, sessions: 1}
	n.owner[strings.ToLower(name)] = userID
	return name, notices, 1
}

// distinct finds a free name made of base and a few characters of the
// user's key: "ann-3f2a", then "ann-3f2a2", ...
func (n *names) distinct(base, userID string) string {
	for i := 0; ; i++ {
		suffix := "-" + shortID(userID)
		if i > 0 {
			suffix += fmt.Sprint(i + 1)
		}
		candidate := base[:min(len(base), maxNameLen-len(suffix))] + suffix
		if owner, taken := n.owner[strings.ToLower(candidate)]; !taken || owner == userID {
			return candidate
		}
	}
}

// release gives back one session's hold on the user's name.
func (n *names) release(userID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.byUser[userID]
	if c == nil {
		return
	}
	if c.sessions--; c.sessions == 0 {
		delete(n.byUser, userID)
		delete(n.owner, strings.ToLower(c.name))
	}
}
