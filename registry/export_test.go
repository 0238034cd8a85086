package registry

import (
	"maps"
	"slices"
)

// Known reports whether the server has seen userID: it owns a name.
func (r *Registry) Known(userID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.st.Owned[userID]) > 0
}

// Users lists the userIDs that own a name.
func (r *Registry) Users() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.st.Names))
}
