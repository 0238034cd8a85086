package history

import (
	"fmt"
	"strings"
)

// Fsync says when the writer asks the kernel to put written events on disk.
// It implements flag.Value, so it can be a command-line flag directly.
type Fsync int

const (
	// FsyncBatch, the zero value, syncs at most Options.Interval after an
	// event was written: a power loss costs at most that much of the log.
	FsyncBatch Fsync = iota
	// FsyncAlways syncs after every batch write, before the writer takes the
	// next events (group commit).
	FsyncAlways
	// FsyncNever leaves syncing to the kernel until Close. A crashed process
	// loses nothing; a crashed machine may lose everything since the last
	// writeback.
	FsyncNever
)

var fsyncNames = [...]string{
	FsyncBatch:  "batch",
	FsyncAlways: "always",
	FsyncNever:  "never",
}

// String returns the name ParseFsync accepts.
func (f Fsync) String() string {
	if f < 0 || int(f) >= len(fsyncNames) {
		return fmt.Sprintf("Fsync(%d)", int(f))
	}
	return fsyncNames[f]
}

// ParseFsync parses "always", "batch" or "never", in any letter case.
func ParseFsync(s string) (Fsync, error) {
	for f, name := range fsyncNames {
		if strings.EqualFold(s, name) {
			return Fsync(f), nil
		}
	}
	return 0, fmt.Errorf("%w %q (want always, batch or never)", ErrFsyncMode, s)
}

// Set parses s into f; with String it makes Fsync a flag.Value.
func (f *Fsync) Set(s string) error {
	v, err := ParseFsync(s)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

func (f Fsync) valid() bool { return f >= 0 && int(f) < len(fsyncNames) }
