package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// BackupSuffix names the copy of the registry file kept before each
// replace: DATA/registry.json.bak is the state before the last change.
const BackupSuffix = ".bak"

// load reads the file at path into st. A file that is not a registry
// (truncated, empty, overwritten) is an error wrapping ErrCorrupt that
// says how to recover.
func load(path string, st *state) error {
	err := readJSON(path, st)
	if errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("%w: %s", err, recovery(path))
	}
	return err
}

// readJSON reads the JSON file at path into v; a missing file leaves v
// as it is. A file that cannot be decoded is an error wrapping ErrCorrupt.
func readJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("open registry: %w", err)
	}
	if err := decode(data, v); err != nil {
		return fmt.Errorf("open registry %s: %w (%v)", path, ErrCorrupt, err)
	}
	return nil
}

func decode(data []byte, v any) error {
	if len(data) == 0 {
		return errors.New("the file is empty")
	}
	return json.Unmarshal(data, v)
}

// recovery says how to get a readable registry back.
func recovery(path string) string {
	bak := path + BackupSuffix
	data, err := os.ReadFile(bak)
	if err != nil {
		return "there is no backup (" + bak + ")"
	}
	if err := decode(data, &state{}); err != nil {
		return "the backup " + bak + " is unreadable too"
	}
	return fmt.Sprintf("the state before the last change is in %s (from %s): copy it over %s to restore it",
		bak, modTime(bak), path)
}

func modTime(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "an unknown time"
	}
	return st.ModTime().UTC().Format(time.RFC3339)
}

// backup keeps the file that is about to be replaced as path.bak. It is a
// hard link, not a copy: the replace writes a new file and renames it over
// path, so the old one lives on under the link. It does its best: a
// filesystem without hard links costs only the backup.
func backup(path string) {
	bak := path + BackupSuffix
	if _, err := os.Stat(path); err != nil {
		return // nothing to keep yet
	}
	if err := os.Remove(bak); err != nil && !errors.Is(err, os.ErrNotExist) {
		return
	}
	_ = os.Link(path, bak)
}

// MoveAside renames an unreadable registry file out of the way, to
// path.broken-TIME, so that the server can start with an empty registry
// and nothing is deleted. It returns the new name.
func MoveAside(path string) (string, error) {
	to := path + ".broken-" + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(path, to); err != nil {
		return "", fmt.Errorf("move the registry aside: %w", err)
	}
	return to, nil
}
