package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/ssh"
)

// hostKeyKey is the key of the cluster's SSH host key in the config bucket.
const hostKeyKey = "hostkey"

// CheckHostKey makes sure that every node shows users the same SSH host
// key. authorizedKey is this node's public host key in authorized_keys
// form. The first node stores it in the config bucket; every other node
// compares its own with it and gets an error wrapping ErrHostKeyMismatch,
// which names both fingerprints, when they differ.
func (n *Node) CheckHostKey(ctx context.Context, authorizedKey string) error {
	mine, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorizedKey))
	if err != nil {
		return fmt.Errorf("cluster: host key: %w", err)
	}
	line := bytes.TrimSpace(ssh.MarshalAuthorizedKey(mine))
	_, err = n.config.Create(ctx, hostKeyKey, line)
	if err == nil {
		n.log.Info("cluster: this node's host key is now the cluster's", "fingerprint", ssh.FingerprintSHA256(mine))
		return nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("cluster: store the host key in %s: %w", n.names.config, err)
	}
	e, err := n.config.Get(ctx, hostKeyKey)
	if err != nil {
		return fmt.Errorf("cluster: read the cluster's host key from %s: %w", n.names.config, err)
	}
	theirs, _, _, _, err := ssh.ParseAuthorizedKey(e.Value())
	if err != nil {
		return fmt.Errorf("cluster: the cluster's host key in %s: %w", n.names.config, err)
	}
	if !bytes.Equal(mine.Marshal(), theirs.Marshal()) {
		return fmt.Errorf("%w: this node's is %s, the cluster's is %s: copy DATA/hostkeys/ from a node of the cluster to this node",
			ErrHostKeyMismatch, ssh.FingerprintSHA256(mine), ssh.FingerprintSHA256(theirs))
	}
	return nil
}
