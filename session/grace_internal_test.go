package session

import "testing"

// The forwarding record's seal: it opens with the old id only, and gives
// nothing usable for a value that is not one.
func TestForwardSeal(t *testing.T) {
	oldID, newID := newID(), newID()
	sealed := sealForward(oldID, newID)
	if sealed == "" || sealed == newID {
		t.Fatalf("sealForward = %q", sealed)
	}
	if got, ok := openForward(oldID, sealed); !ok || got != newID {
		t.Errorf("openForward with the old id = %q, %v", got, ok)
	}
	if got, _ := openForward(newID, sealed); got == newID {
		t.Error("the seal opens with another id")
	}
	for _, bad := range []string{"", "short", sealed + "A", "!!" + sealed[2:]} {
		if _, ok := openForward(oldID, bad); ok {
			t.Errorf("openForward(%q) is valid", bad)
		}
	}
	if sealForward(oldID, "not an id") != "" {
		t.Error("sealForward of a value that is not an id")
	}
}
