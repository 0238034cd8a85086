// Package hostkeys loads the server's SSH host keys from a directory, or
// creates one on first start. It stands alone: it knows nothing about the
// chat, sessions or the SSH server that uses the keys.
//
// The directory follows sshd's conventions: private keys are the files named
// ssh_host_*_key (ssh_host_ed25519_key, ssh_host_rsa_key, ...), each next to
// its .pub file. A private key that group or others may read or write is
// refused, as sshd refuses it. When the directory holds no key, an ed25519
// key is generated and written there.
package hostkeys
