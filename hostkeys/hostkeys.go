package hostkeys

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/internal/dirsync"
)

// Errors returned by LoadOrCreate, wrapped with the file they are about.
var (
	// ErrInsecure means a private key file, or the directory of the keys,
	// is readable or writable by group or others; chmod 600 (700 for the
	// directory) fixes it.
	ErrInsecure = errors.New("hostkeys: accessible by others")
)

const (
	// pattern matches the private key files, as sshd names them.
	pattern = "ssh_host_*_key"
	// newKeyName is the file written when the directory holds no key.
	newKeyName = "ssh_host_ed25519_key"
	// comment ends the generated public key line, as ssh-keygen's user@host does.
	comment = "sshchat"
)

// Keys are the host keys of the server, in the order of their file names.
type Keys struct {
	keys []key
}

type key struct {
	path   string
	signer ssh.Signer
}

// LoadOrCreate loads every private key file named ssh_host_*_key in dir.
// It creates dir (mode 0700) if it is missing, and an ed25519 key in it if
// it holds none. It refuses a key file or a dir that group or others may
// access (ErrInsecure) and a file it cannot parse, encrypted keys included.
func LoadOrCreate(dir string) (*Keys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("hostkeys: create directory: %w", err)
	}
	if err := privateDir(dir); err != nil {
		return nil, err
	}
	keys, err := load(dir)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		k, err := create(dir)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return &Keys{keys: keys}, nil
}

// Signers returns the keys for ssh.ServerConfig.AddHostKey.
func (k *Keys) Signers() []ssh.Signer {
	out := make([]ssh.Signer, len(k.keys))
	for i, key := range k.keys {
		out[i] = key.signer
	}
	return out
}

// String describes the keys on one line for the startup log, e.g.
// "ssh-ed25519 SHA256:... (data/hostkeys/ssh_host_ed25519_key)".
func (k *Keys) String() string {
	parts := make([]string, len(k.keys))
	for i, key := range k.keys {
		pub := key.signer.PublicKey()
		parts[i] = fmt.Sprintf("%s %s (%s)", pub.Type(), ssh.FingerprintSHA256(pub), key.path)
	}
	return strings.Join(parts, ", ")
}

// load reads the private keys in dir; os.ReadDir sorts them by name.
func load(dir string) ([]key, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("hostkeys: %w", err)
	}
	var keys []key
	for _, e := range entries {
		if ok, _ := filepath.Match(pattern, e.Name()); !ok {
			continue
		}
		path := filepath.Join(dir, e.Name())
		signer, err := loadKey(path)
		if err != nil {
			return nil, err
		}
		keys = append(keys, key{path: path, signer: signer})
	}
	return keys, nil
}

// loadKey checks the mode and parses the key through one open file, so the
// file checked is the file read.
func loadKey(path string) (ssh.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("hostkeys: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("hostkeys: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("hostkeys: %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o: run chmod 600 %s", ErrInsecure, path, uint32(perm), path)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("hostkeys: read %s: %w", path, err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		// The server starts unattended: nobody is there to type a passphrase.
		return nil, fmt.Errorf("hostkeys: %s is encrypted: remove its passphrase with ssh-keygen -p -N '' -f %s: %w", path, path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("hostkeys: parse %s: %w", path, err)
	}
	return signer, nil
}

// create generates an ed25519 key and writes it to dir. The .pub goes first:
// a crash in between leaves no private key, so the next start generates a
// new pair instead of serving a key whose .pub is missing.
func create(dir string) (key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return key{}, fmt.Errorf("hostkeys: generate key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return key{}, fmt.Errorf("hostkeys: generate key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return key{}, fmt.Errorf("hostkeys: encode key: %w", err)
	}
	path := filepath.Join(dir, newKeyName)
	pub := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(signer.PublicKey())), "\n") + " " + comment + "\n"
	if err := writeFile(path+".pub", []byte(pub), 0o644); err != nil {
		return key{}, err
	}
	if err := writeFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return key{}, err
	}
	if err := dirsync.Sync(dir); err != nil {
		return key{}, fmt.Errorf("hostkeys: %w", err)
	}
	return key{path: path, signer: signer}, nil
}

// writeFile writes data to path atomically: a reader sees the old file or
// the whole new one, with its final mode from the start.
func writeFile(path string, data []byte, perm os.FileMode) (err error) {
	// The leading dot keeps a leftover temporary file out of the pattern.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("hostkeys: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("hostkeys: write %s: %w", path, err)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// privateDir checks that group and others can neither read nor write dir
// (ErrInsecure, saying the chmod that fixes it).
func privateDir(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("hostkeys: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o066 != 0 {
		return fmt.Errorf("%w: %s has mode %04o: run chmod 700 %s", ErrInsecure, dir, uint32(perm), dir)
	}
	return nil
}
