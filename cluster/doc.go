// Package cluster joins a node to the others over NATS JetStream: the
// stream that numbers and carries every event, node liveness, the shared
// host key and the shared registry.
//
// It owns:
//   - the stream SSHCHAT_<C> (subjects sshchat.<C>.>): Publish stores an
//     event there and the stream sequence is its ID; a publish is retried
//     with the same Nats-Msg-Id until it is acknowledged, so a retry never
//     stores an event twice;
//   - one ordered consumer per node (Consume): every event, in sequence
//     order, from a given sequence, across reconnects, with gaps (events
//     the stream no longer holds) reported and skipped;
//   - liveness in the KV bucket sshchat_<C>_nodes: a heartbeat key per node
//     and the list of its sessions; a node silent for the TTL is gone, and
//     exactly one of the others (the one whose compare-and-delete of its key
//     succeeds) reports it; a node that cannot keep its own heartbeat is
//     fenced;
//   - the cluster's SSH host key in the KV bucket sshchat_<C>_config;
//   - Read, the reader of `sshchat log --nats`.
//
// Only features of nats-server 2.9 are used (Debian's nats-server is
// 2.9.10): one filter subject per consumer, no stream metadata,
// compression, subject transforms or per-message TTLs.
//
// The package knows the hub's Event type and nothing of SSH sessions,
// terminals or the chat core: what a gone node's sessions mean, and what
// to do when this node is fenced, is for its caller.
package cluster
