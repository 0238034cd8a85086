package readguard

import "testing"

// Check fails t for every read of events in the package in dir that does
// not pass hub.Visible, and when it finds fewer than atLeast reads (what
// the package is known to make): a guard that finds none is not looking.
func Check(t testing.TB, dir string, atLeast int) {
	t.Helper()
	bad, reads, err := unfiltered(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range bad {
		t.Error(u)
	}
	if reads < atLeast {
		t.Errorf("found %d reads of events, want at least %d: is the guard still looking?", reads, atLeast)
	}
}
