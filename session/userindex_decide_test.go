package session

import (
	"testing"
	"time"
)

// TestDecideSaveIndex covers decideSave's index case: which saves add the
// written record to which user's index, which must find the loaded record
// still a live member there, and which remove records from the old user's.
func TestDecideSaveIndex(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o := Options{IdleTimeout: 30 * time.Minute, Lifetime: 2 * time.Hour}
	caps := storeCaps{touch: true, index: true}
	loaded := saveSnapshot{id: "a", originalID: "a", stored: true, created: now.Add(-time.Hour), saved: now.Add(-time.Minute), written: now.Add(-time.Minute)}
	with := func(s saveSnapshot, f func(*saveSnapshot)) saveSnapshot { f(&s); return s }
	alice := with(loaded, func(s *saveSnapshot) { s.user, s.indexed = "alice", "alice" })

	tests := []struct {
		name string
		s    saveSnapshot
		c    storeCaps
		want indexPlan
	}{
		{"new anonymous session", saveSnapshot{id: "n", originalID: "n", dirty: true}, caps, indexPlan{}},
		{"new session signed in", saveSnapshot{id: "n", originalID: "n", dirty: true, user: "alice"}, caps,
			indexPlan{needed: true, to: "alice", add: true}},
		{"login in place", with(loaded, func(s *saveSnapshot) { s.dirty, s.user = true, "alice" }), caps,
			indexPlan{needed: true, to: "alice", add: true}},
		{"login with RegenerateID(true)", with(loaded, func(s *saveSnapshot) {
			s.dirty, s.user, s.id, s.deleteID, s.deletes = true, "alice", "b", "a", []string{"a"}
		}), caps, indexPlan{needed: true, to: "alice", add: true}},
		{"change, same user", with(alice, func(s *saveSnapshot) { s.dirty = true }), caps,
			indexPlan{from: "alice", to: "alice"}},
		{"unchanged", alice, caps, indexPlan{from: "alice", to: "alice"}},
		{"sliding refresh", with(alice, func(s *saveSnapshot) { s.saved = now.Add(-10 * time.Minute) }), caps,
			indexPlan{from: "alice", to: "alice"}},
		{"sliding refresh without touch", with(alice, func(s *saveSnapshot) { s.saved = now.Add(-10 * time.Minute) }),
			storeCaps{index: true}, indexPlan{from: "alice", to: "alice"}},
		{"regenerated, same user", with(alice, func(s *saveSnapshot) { s.dirty, s.id = true, "b" }), caps,
			indexPlan{needed: true, from: "alice", to: "alice", add: true, require: true}},
		{"regenerated, same user, delete old", with(alice, func(s *saveSnapshot) { s.dirty, s.id, s.deletes = true, "b", []string{"a"} }), caps,
			indexPlan{needed: true, from: "alice", to: "alice", add: true, require: true, remove: true}},
		{"switch user", with(alice, func(s *saveSnapshot) { s.dirty, s.user = true, "bob" }), caps,
			indexPlan{needed: true, from: "alice", to: "bob", add: true, require: true, remove: true}},
		{"logout keeping the session", with(alice, func(s *saveSnapshot) { s.dirty, s.user = true, "" }), caps,
			indexPlan{needed: true, from: "alice", remove: true}},
		{"Destroy", with(alice, func(s *saveSnapshot) { s.destroyed, s.user, s.deletes = true, "", []string{"a"} }), caps,
			indexPlan{needed: true, from: "alice", remove: true}},
		{"Destroy of an anonymous session", with(loaded, func(s *saveSnapshot) { s.destroyed, s.deletes = true, []string{"a"} }), caps,
			indexPlan{}},
		{"Destroy then Set: a new anonymous session", saveSnapshot{id: "n", originalID: "n", dirty: true, deletes: []string{"a"}, indexed: "alice"}, caps,
			indexPlan{needed: true, from: "alice", remove: true}},
		{"past its lifetime", with(alice, func(s *saveSnapshot) { s.dirty, s.created = true, now.Add(-3*time.Hour) }), caps,
			indexPlan{needed: true, from: "alice", remove: true}},
		{"no index", with(loaded, func(s *saveSnapshot) { s.dirty, s.user = true, "alice" }), storeCaps{}, indexPlan{}},
	}
	for _, tt := range tests {
		if got := decideSave(&tt.s, now, &o, tt.c).index; got != tt.want {
			t.Errorf("%s: index plan %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
