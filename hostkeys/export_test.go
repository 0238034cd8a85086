package hostkeys

import "golang.org/x/crypto/ssh"

// Fingerprints returns the SHA256 fingerprint of each public key, in the
// form ssh-keygen -l prints and clients show ("SHA256:...").
func (k *Keys) Fingerprints() []string {
	out := make([]string, len(k.keys))
	for i, key := range k.keys {
		out[i] = ssh.FingerprintSHA256(key.signer.PublicKey())
	}
	return out
}

// Paths returns the private key files that were loaded or created.
func (k *Keys) Paths() []string {
	out := make([]string, len(k.keys))
	for i, key := range k.keys {
		out[i] = key.path
	}
	return out
}
