package registry

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDamagedFileNamesTheBackup: each replace keeps the file it replaces;
// a truncated registry is refused with an error that says where that copy
// is, and the copy restores the state before the last change.
func TestDamagedFileNamesTheBackup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.json")
	r := open(t, path)
	for _, name := range []string{"ann", "bob"} {
		if err := r.Claim("SHA256:"+name, name); err != nil {
			t.Fatal(err)
		}
		if err := r.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}

	_, err = Open(path)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open of a truncated file = %v, want ErrCorrupt", err)
	}
	for _, want := range []string{path, path + BackupSuffix, "copy it over"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	bak, err := os.ReadFile(path + BackupSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bak, 0o600); err != nil {
		t.Fatal(err)
	}
	r = open(t, path)
	if got := r.NameOf("SHA256:ann"); got != "ann" {
		t.Errorf("restored backup: ann's name = %q, want ann", got)
	}
	if got := r.NameOf("SHA256:bob"); got != "" {
		t.Errorf("restored backup: bob's name = %q, want none (the last change)", got)
	}
}

// TestEmptyFileWithoutBackup: an empty file says so, and that there is no
// backup; MoveAside clears the way without deleting anything.
func TestEmptyFileWithoutBackup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.json")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "empty") || !strings.Contains(err.Error(), "no backup") {
		t.Fatalf("Open of an empty file = %v, want ErrCorrupt saying it is empty and there is no backup", err)
	}
	moved, err := MoveAside(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(moved, path+".broken-") {
		t.Errorf("moved to %q", moved)
	}
	if _, err := os.Stat(moved); err != nil {
		t.Errorf("the moved file: %v", err)
	}
	r := open(t, path)
	if got := r.Users(); len(got) != 0 {
		t.Errorf("after MoveAside: users %v, want none", got)
	}
}
