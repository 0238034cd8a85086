package chat

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sshchat/sshchat/registry"
)

const (
	minNameLen = 2
	maxNameLen = 24
)

// validName reports whether name is 2–24 characters of A-Z a-z 0-9 _ . -
// with at least two letters or digits: the separators do not tell names
// apart (registry.Canonical).
func validName(name string) bool {
	if len(name) < minNameLen || len(name) > maxNameLen {
		return false
	}
	alnum := 0
	for _, r := range name {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			alnum++
		case r == '_', r == '.', r == '-':
		default:
			return false
		}
	}
	return alnum >= minNameLen
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

// choose picks the name of a user arriving with its first session.
func (p *presence) choose(userID, wanted string) (arrival, error) {
	var a arrival
	own := p.reg.NameOf(userID)
	switch owner, taken := p.reg.Owner(wanted); {
	case !validName(wanted):
		a.notices = append(a.notices, fmt.Sprintf("%.40q is not a usable name (2-24 of A-Z a-z 0-9 _ . -, two of them letters or digits)", wanted))
	case registry.Reserved(wanted):
		a.notices = append(a.notices, fmt.Sprintf("the name %s is reserved", wanted))
	case taken && owner != userID:
		a.notices = append(a.notices, fmt.Sprintf("the name %s belongs to another key", wanted))
		a.warning = fmt.Sprintf("someone with a different key (%s…) asked for the name %s", shortID(userID), wanted)
	default:
		switch err := p.reg.Claim(userID, wanted); {
		case err == nil:
			a.name = wanted
			return a, nil
		case errors.Is(err, registry.ErrNameLimit):
			a.notices = append(a.notices, nameLimit(p.reg.NamesOf(userID)))
		case !errors.Is(err, registry.ErrTaken):
			return a, err
		}
	}
	if len(a.notices) == 0 { // another key took it a moment ago
		a.notices = append(a.notices, fmt.Sprintf("the name %s was just taken", wanted))
	}
	// The fallback: the key's own name, or a new one made from what it
	// asked for and its fingerprint.
	if own != "" {
		a.name = own
	} else {
		base := wanted
		if !validName(base) || registry.Reserved(base) {
			base = "user"
		}
		name, err := p.distinct(base, userID)
		if err != nil {
			return a, err
		}
		a.name = name
	}
	a.notices[len(a.notices)-1] += fmt.Sprintf(": you are %s; /nick NAME chooses another", a.name)
	if a.warning != "" {
		a.warning += "; they are " + a.name
	}
	return a, nil
}

// distinct claims a free name made of base and a few characters of the
// user's key: "ann-3f2a", then "ann-3f2a2", ...
func (p *presence) distinct(base, userID string) (string, error) {
	for i := 0; i < 100; i++ {
		suffix := "-" + shortID(userID)
		if i > 0 {
			suffix += fmt.Sprint(i + 1)
		}
		candidate := base[:min(len(base), maxNameLen-len(suffix))] + suffix
		err := p.reg.Claim(userID, candidate)
		if err == nil {
			return candidate, nil
		}
		if !errors.Is(err, registry.ErrTaken) && !errors.Is(err, registry.ErrReserved) {
			return "", err
		}
	}
	return "", fmt.Errorf("no free name for %s", base)
}

// nameLimit tells a key that owns as many names as it may.
func nameLimit(owned []string) string {
	return fmt.Sprintf("your key owns %d names, the most it may (%s): use one of them, or ask an admin to /release one",
		len(owned), strings.Join(owned, ", "))
}

// releaseName frees a name for other keys, unless someone online goes by
// it, and returns its owner. It is on disk when it returns.
func (p *presence) releaseName(name string) (owner string, err error) {
	if owner, err = p.releaseMemory(name); err != nil {
		return "", err
	}
	return owner, p.reg.Sync()
}

func (p *presence) releaseMemory(name string) (string, error) {
	c := registry.Canonical(name)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.users {
		if registry.Canonical(u.name) == c {
			return "", fmt.Errorf("%s is online under that name: /kick them first", u.name)
		}
	}
	owner, err := p.reg.Release(name)
	if errors.Is(err, registry.ErrNotOwned) {
		return "", fmt.Errorf("nobody owns the name %s", name)
	}
	return owner, err
}
