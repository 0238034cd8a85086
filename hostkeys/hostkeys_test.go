package hostkeys_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/hostkeys"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hostkeys")
	keys, err := hostkeys.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "ssh_host_ed25519_key")

	for _, tt := range []struct {
		path string
		want os.FileMode
	}{
		{dir, 0o700 | os.ModeDir},
		{keyPath, 0o600},
		{keyPath + ".pub", 0o644},
	} {
		info, err := os.Stat(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode(); got != tt.want {
			t.Errorf("mode of %s = %v, want %v", tt.path, got, tt.want)
		}
	}

	if got, want := keys.Paths(), []string{keyPath}; !slices.Equal(got, want) {
		t.Errorf("Paths() = %q, want %q", got, want)
	}
	signers := keys.Signers()
	if len(signers) != 1 || signers[0].PublicKey().Type() != ssh.KeyAlgoED25519 {
		t.Fatalf("Signers() = %v, want one ed25519 key", signers)
	}
	fps := keys.Fingerprints()
	if len(fps) != 1 || !strings.HasPrefix(fps[0], "SHA256:") {
		t.Fatalf("Fingerprints() = %q, want one SHA256:...", fps)
	}

	pub := readPub(t, keyPath+".pub")
	if got, want := fps[0], ssh.FingerprintSHA256(pub); got != want {
		t.Errorf("fingerprint = %s, want %s (from .pub)", got, want)
	}
	if !slices.Equal(pub.Marshal(), signers[0].PublicKey().Marshal()) {
		t.Error(".pub does not hold the public half of the key")
	}
	if got, want := keys.String(), "ssh-ed25519 "+fps[0]+" ("+keyPath+")"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestReload(t *testing.T) {
	dir := keyDir(t)
	first, err := hostkeys.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	before := readFiles(t, dir)

	second, err := hostkeys.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := second.Fingerprints(), first.Fingerprints(); !slices.Equal(got, want) {
		t.Errorf("fingerprints after reload = %q, want %q", got, want)
	}
	after := readFiles(t, dir)
	if len(after) != 2 || len(before) != 2 {
		t.Errorf("files = %d before reload, %d after, want 2 (key and .pub)", len(before), len(after))
	}
	for name, data := range before {
		if after[name] != data {
			t.Errorf("%s changed on reload", name)
		}
	}
}

func TestPermissions(t *testing.T) {
	for _, tt := range []struct {
		mode     os.FileMode
		insecure bool
	}{
		{0o600, false},
		{0o400, false},
		{0o700, false},
		{0o644, true},
		{0o640, true},
		{0o660, true},
		{0o604, true},
		{0o620, true},
		{0o602, true},
	} {
		t.Run(tt.mode.String(), func(t *testing.T) {
			dir := keyDir(t)
			path := filepath.Join(dir, "ssh_host_ed25519_key")
			writeKey(t, path, newEd25519(t), tt.mode)

			_, err := hostkeys.LoadOrCreate(dir)
			if got := errors.Is(err, hostkeys.ErrInsecure); got != tt.insecure {
				t.Fatalf("errors.Is(%v, ErrInsecure) = %v, want %v", err, got, tt.insecure)
			}
			if !tt.insecure {
				return
			}
			for _, want := range []string{path, "chmod 600 " + path} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to name %q", err, want)
				}
			}
			if _, err := os.Stat(path + ".pub"); !os.IsNotExist(err) {
				t.Errorf("a refused key was replaced: stat .pub: %v", err)
			}
		})
	}
}

func TestUnreadable(t *testing.T) {
	encrypted, err := ssh.MarshalPrivateKeyWithPassphrase(newEd25519(t), "", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	short := marshal(t, newEd25519(t))
	short.Bytes = short.Bytes[:len(short.Bytes)/2]
	for _, tt := range []struct {
		name      string
		data      []byte
		encrypted bool
	}{
		{"empty", nil, false},
		{"garbage", []byte("not a key\n"), false},
		{"truncated file", pem.EncodeToMemory(marshal(t, newEd25519(t)))[:100], false},
		{"truncated key", pem.EncodeToMemory(short), false},
		{"encrypted", pem.EncodeToMemory(encrypted), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := keyDir(t)
			path := filepath.Join(dir, "ssh_host_ed25519_key")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := hostkeys.LoadOrCreate(dir)
			if err == nil {
				t.Fatal("LoadOrCreate succeeded, want an error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("err = %q, want it to name %s", err, path)
			}
			if errors.Is(err, hostkeys.ErrInsecure) {
				t.Errorf("err = %q, want a parse error, not ErrInsecure", err)
			}
			var missing *ssh.PassphraseMissingError
			if got := errors.As(err, &missing); got != tt.encrypted {
				t.Errorf("errors.As(%q, *ssh.PassphraseMissingError) = %v, want %v", err, got, tt.encrypted)
			}
		})
	}
}

func TestNotADirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := hostkeys.LoadOrCreate(dir); err == nil {
		t.Fatal("LoadOrCreate succeeded on a regular file, want an error")
	}
}

// TestOnlyKeyFiles checks that files not named like sshd's private keys
// are left alone: none of them is parsed, so a new key is created.
func TestOnlyKeyFiles(t *testing.T) {
	dir := keyDir(t)
	for _, name := range []string{
		"ssh_host_ed25519_key.pub",
		"ssh_host_key",
		"ssh_host_rsa_key.bak",
		"README",
		".ssh_host_ed25519_key.tmp123",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("not a key\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := hostkeys.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys.Paths(), []string{filepath.Join(dir, "ssh_host_ed25519_key")}; !slices.Equal(got, want) {
		t.Errorf("Paths() = %q, want %q", got, want)
	}
}

func TestSortedByName(t *testing.T) {
	dir := keyDir(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Written out of order; loaded by name.
	writeKey(t, filepath.Join(dir, "ssh_host_ed25519_key"), newEd25519(t), 0o600)
	writeKey(t, filepath.Join(dir, "ssh_host_ecdsa_key"), ec, 0o400)

	keys, err := hostkeys.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(dir, "ssh_host_ecdsa_key"),
		filepath.Join(dir, "ssh_host_ed25519_key"),
	}
	if got := keys.Paths(); !slices.Equal(got, want) {
		t.Errorf("Paths() = %q, want %q", got, want)
	}
	var got []string
	for _, s := range keys.Signers() {
		got = append(got, s.PublicKey().Type())
	}
	if want := []string{ssh.KeyAlgoECDSA256, ssh.KeyAlgoED25519}; !slices.Equal(got, want) {
		t.Errorf("key types = %q, want %q", got, want)
	}
	if n := len(keys.Fingerprints()); n != 2 {
		t.Errorf("len(Fingerprints()) = %d, want 2", n)
	}
}

// TestSSHKeygen checks the package against OpenSSH: a created key has the
// fingerprint ssh-keygen prints, and keys ssh-keygen made load.
func TestSSHKeygen(t *testing.T) {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen not found")
	}

	t.Run("fingerprint", func(t *testing.T) {
		dir := keyDir(t)
		keys, err := hostkeys.LoadOrCreate(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{keys.Paths()[0], keys.Paths()[0] + ".pub"} {
			if got, want := keys.Fingerprints()[0], keygenFingerprint(t, keygen, path); got != want {
				t.Errorf("fingerprint = %s, ssh-keygen -lf %s says %s", got, path, want)
			}
		}
	})

	for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
		t.Run("load "+typ, func(t *testing.T) {
			dir := keyDir(t)
			path := filepath.Join(dir, "ssh_host_"+typ+"_key")
			out, err := exec.Command(keygen, "-q", "-t", typ, "-N", "", "-C", "test", "-f", path).CombinedOutput()
			if err != nil {
				t.Fatalf("ssh-keygen: %v\n%s", err, out)
			}
			if err := os.Chmod(path, 0o600); err != nil {
				t.Fatal(err)
			}
			keys, err := hostkeys.LoadOrCreate(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := keys.Paths(), []string{path}; !slices.Equal(got, want) {
				t.Errorf("Paths() = %q, want %q", got, want)
			}
			if got, want := keys.Fingerprints()[0], keygenFingerprint(t, keygen, path+".pub"); got != want {
				t.Errorf("fingerprint = %s, ssh-keygen says %s", got, want)
			}
		})
	}
}

// keygenFingerprint returns the fingerprint in ssh-keygen -lf's output,
// "256 SHA256:... comment (ED25519)".
func keygenFingerprint(t *testing.T, keygen, path string) string {
	t.Helper()
	out, err := exec.Command(keygen, "-lf", path).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -lf %s: %v", path, err)
	}
	fields := strings.Fields(string(out))
	if len(fields) < 2 {
		t.Fatalf("ssh-keygen -lf %s: unexpected output %q", path, out)
	}
	return fields[1]
}

func newEd25519(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func marshal(t *testing.T, priv crypto.PrivateKey) *pem.Block {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	return block
}

// writeKey writes priv to path with exactly mode, whatever the umask.
func writeKey(t *testing.T, path string, priv crypto.PrivateKey, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(marshal(t, priv)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func readPub(t *testing.T, path string) ssh.PublicKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return pub
}

// readFiles returns the contents of the files in dir by name.
func readFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := make(map[string]string)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(data)
	}
	return files
}

// keyDir is an empty directory only its owner may use, as LoadOrCreate
// wants (t.TempDir's are readable by others).
func keyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDirectoryPermissions(t *testing.T) {
	for _, tt := range []struct {
		mode     os.FileMode
		insecure bool
	}{
		{0o700, false},
		{0o711, false}, // others may pass, not list nor write
		{0o750, true},
		{0o755, true},
		{0o720, true},
		{0o702, true},
	} {
		t.Run(tt.mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Chmod(dir, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := hostkeys.LoadOrCreate(dir)
			if got := errors.Is(err, hostkeys.ErrInsecure); got != tt.insecure {
				t.Fatalf("errors.Is(%v, ErrInsecure) = %v, want %v", err, got, tt.insecure)
			}
			if tt.insecure && !strings.Contains(fmt.Sprint(err), "chmod 700 "+dir) {
				t.Errorf("err = %q, want it to say chmod 700 %s", err, dir)
			}
		})
	}
}
