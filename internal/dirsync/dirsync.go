// Package dirsync makes the names in a directory durable: after a file is
// created or renamed into it, the directory itself must be synced, or a
// power loss may forget the new name though the file's data was synced.
package dirsync

import (
	"fmt"
	"os"
)

// Sync syncs the directory dir.
func Sync(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
