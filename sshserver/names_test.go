package sshserver

import (
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"al", true},
		{"alice_B.c-9", true},
		{strings.Repeat("a", 24), true},
		{"a", false},
		{strings.Repeat("a", 25), false},
		{"ali ce", false},
		{"álice", false},
		{"al\x1b[2J", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := validName(tt.name); got != tt.want {
			t.Errorf("validName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNames(t *testing.T) {
	n := newNames()
	const alice, mallory = "SHA256:aliceKEY", "SHA256:mallKEY"

	name, notices, _ := n.acquire(alice, "alice")
	if name != "alice" || notices != nil {
		t.Fatalf("first claim = %q %v, want alice and no notice", name, notices)
	}
	if name, _, sessions := n.acquire(alice, "other"); name != "alice" || sessions != 2 {
		t.Errorf("a second session of one user got %q (%d sessions), want its name alice and 2", name, sessions)
	}
	name, notices, _ = n.acquire(mallory, "ALICE")
	if strings.EqualFold(name, "alice") || !strings.HasPrefix(name, "ALICE-") || len(notices) != 1 {
		t.Errorf("another key asking for ALICE got %q %v, want a distinct name and a notice", name, notices)
	}
	if !validName(name) {
		t.Errorf("fallback %q is not itself a valid name", name)
	}
	n.release(mallory)

	name, notices, _ = n.acquire("SHA256:xyz", "bad name!")
	if !validName(name) || len(notices) != 1 || !strings.Contains(notices[0], name) {
		t.Errorf("invalid wanted name gave %q %v, want a valid fallback named in the notice", name, notices)
	}

	n.release(alice)
	n.release(alice)
	if name, _, _ := n.acquire(mallory, "alice"); name != "alice" {
		t.Errorf("after alice left, the name is still held: got %q", name)
	}
}

func TestDistinctNameFitsLimit(t *testing.T) {
	n := newNames()
	long := strings.Repeat("x", 24)
	n.acquire("SHA256:first", long)
	name, _, _ := n.acquire("SHA256:second", long)
	if len(name) > maxNameLen || name == long {
		t.Errorf("distinct name %q (len %d) for a 24-character name", name, len(name))
	}
}
