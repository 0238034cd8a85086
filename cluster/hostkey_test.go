package cluster

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/internal/natstest"
)

// authorizedKey is a new ed25519 public key in authorized_keys form, and
// its fingerprint.
func authorizedKey(t *testing.T) (string, string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(ssh.MarshalAuthorizedKey(k)), ssh.FingerprintSHA256(k)
}

func TestHostKey(t *testing.T) {
	s := natstest.Run(t)
	testHostKey(t, s.URL())
}

// testHostKey: the first node's key becomes the cluster's; the same key
// is accepted from any node, another one is refused with both
// fingerprints and what to do.
func testHostKey(t *testing.T, url string) {
	a := connect(t, url, "hk", "a")
	b := connect(t, url, "hk", "b")
	key, _ := authorizedKey(t)
	other, otherFP := authorizedKey(t)
	ctx := testCtx(t)
	if err := a.CheckHostKey(ctx, key); err != nil {
		t.Fatalf("first node: %v", err)
	}
	// The same key, with another comment and no newline.
	same := strings.TrimSpace(key) + " root@elsewhere"
	if err := b.CheckHostKey(ctx, same); err != nil {
		t.Fatalf("same key on another node: %v", err)
	}
	if err := a.CheckHostKey(ctx, key); err != nil {
		t.Fatalf("same key again: %v", err)
	}
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	err = b.CheckHostKey(ctx, other)
	if !errors.Is(err, ErrHostKeyMismatch) {
		t.Fatalf("another key: %v, want ErrHostKeyMismatch", err)
	}
	for _, want := range []string{otherFP, ssh.FingerprintSHA256(pk), "copy DATA/hostkeys/ from a node of the cluster to this node"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("the error %q does not say %q", err, want)
		}
	}
	if err := b.CheckHostKey(ctx, "not a key"); err == nil || errors.Is(err, ErrHostKeyMismatch) {
		t.Fatalf("a malformed key: %v", err)
	}
}
