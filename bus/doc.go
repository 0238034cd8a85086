// Package bus assigns event IDs: one sequence for every room of a data
// directory, so that IDs are unique and increasing across rooms. It hands
// each stamped event to the event log in that order, so the log is totally
// ordered.
//
// Local is the single-node bus: a hub of each room calls Local.Stamp (its
// hub.WithStamp function) for every event it records, and the log reads the
// channel Local was made with. A bus for a cluster of nodes, where the
// sequence is shared, comes later with the same role.
//
// The package knows the hub's Event type and nothing of SSH, terminals or
// files.
package bus
