package registry

import (
	"bytes"
	"fmt"
	"os"

	"golang.org/x/crypto/ssh"
)

// ReadKeys reads a file in authorized_keys format and returns the SHA256
// fingerprints of its keys. Blank lines and comments are skipped; a line
// that is not a key is an error naming the line.
func ReadKeys(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	keys := map[string]bool{}
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, _, _, _, err := ssh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("read keys: %s:%d: %w", path, n+1, err)
		}
		keys[ssh.FingerprintSHA256(key)] = true
	}
	return keys, nil
}
