package chat

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestRosterOrderFollowsChanges: the member lists' order is kept by each
// arrival, departure and rename, and is always what a full sort gives.
func TestRosterOrderFollowsChanges(t *testing.T) {
	p := newTestPresence(t, "") // in memory: no disk write a step
	rng := rand.New(rand.NewPCG(1, 2))
	sessions := map[string]*sessionInfo{}
	for i := range 300 {
		id := fmt.Sprintf("SHA256:user%03d", rng.IntN(120))
		switch si, on := sessions[id]; {
		case !on:
			si := newSessionInfo(newFakeSession(id+"/s"), true)
			a, err := p.arrive(id, fmt.Sprintf("N%03d", rng.IntN(1000)), si) // in memory: no disk write a step
			if err != nil {
				t.Fatal(err)
			}
			p.join(a.user, si, "lobby")
			sessions[id] = si
		case i%3 == 0:
			if _, err := p.rename(id, fmt.Sprintf("r%03d", i), nil); err != nil {
				t.Fatal(err)
			}
		default:
			p.release(id, si)
			delete(sessions, id)
		}
		top, total := p.members("lobby", 1<<20)
		if total != len(sessions) || len(top) != total {
			t.Fatalf("step %d: %d of %d members listed, %d online", i, len(top), total, len(sessions))
		}
		if !slices.IsSortedFunc(top, func(a, b Member) int {
			return strings.Compare(strings.ToLower(a.Name)+"\x00"+a.UserID, strings.ToLower(b.Name)+"\x00"+b.UserID)
		}) {
			t.Fatalf("step %d: roster out of order: %v", i, top)
		}
	}
}
