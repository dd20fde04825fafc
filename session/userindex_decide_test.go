package session

import (
	"testing"
	"time"
)

// TestDecideSaveIndex covers decideSave's index case: which saves move index
// entries, from which user to which, and which record must still be live.
func TestDecideSaveIndex(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o := Options{IdleTimeout: 30 * time.Minute, Lifetime: 2 * time.Hour}
	caps := storeCaps{touch: true, update: true, index: true}
	loaded := saveSnapshot{id: "a", originalID: "a", stored: true, created: now.Add(-time.Hour), saved: now.Add(-time.Minute)}
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
			indexPlan{needed: true, to: "alice"}},
		{"login in place", with(loaded, func(s *saveSnapshot) { s.dirty, s.user = true, "alice" }), caps,
			indexPlan{needed: true, to: "alice", require: "a"}},
		{"login with RegenerateID(true)", with(loaded, func(s *saveSnapshot) {
			s.dirty, s.user, s.id, s.deleteID, s.deletes = true, "alice", "b", "a", []string{"a"}
		}), caps, indexPlan{needed: true, to: "alice", require: "a"}},
		{"change, same user", with(alice, func(s *saveSnapshot) { s.dirty = true }), caps,
			indexPlan{from: "alice", to: "alice", require: "a"}},
		{"unchanged", alice, caps, indexPlan{from: "alice", to: "alice"}},
		{"sliding refresh", with(alice, func(s *saveSnapshot) { s.saved = now.Add(-10 * time.Minute) }), caps,
			indexPlan{from: "alice", to: "alice"}},
		{"sliding refresh without touch", with(alice, func(s *saveSnapshot) { s.saved = now.Add(-10 * time.Minute) }),
			storeCaps{update: true, index: true}, indexPlan{from: "alice", to: "alice"}},
		{"regenerated, same user", with(alice, func(s *saveSnapshot) { s.dirty, s.id = true, "b" }), caps,
			indexPlan{needed: true, from: "alice", to: "alice", require: "a"}},
		{"switch user", with(alice, func(s *saveSnapshot) { s.dirty, s.user = true, "bob" }), caps,
			indexPlan{needed: true, from: "alice", to: "bob", require: "a"}},
		{"logout keeping the session", with(alice, func(s *saveSnapshot) { s.dirty, s.user = true, "" }), caps,
			indexPlan{needed: true, from: "alice", require: "a"}},
		{"Destroy", with(alice, func(s *saveSnapshot) { s.destroyed, s.user, s.deletes = true, "", []string{"a"} }), caps,
			indexPlan{needed: true, from: "alice"}},
		{"Destroy of an anonymous session", with(loaded, func(s *saveSnapshot) { s.destroyed, s.deletes = true, []string{"a"} }), caps,
			indexPlan{}},
		{"Destroy then Set: a new anonymous session", saveSnapshot{id: "n", originalID: "n", dirty: true, deletes: []string{"a"}, indexed: "alice"}, caps,
			indexPlan{needed: true, from: "alice"}},
		{"past its lifetime", with(alice, func(s *saveSnapshot) { s.dirty, s.created = true, now.Add(-3*time.Hour) }), caps,
			indexPlan{needed: true, from: "alice"}},
		{"no index", with(loaded, func(s *saveSnapshot) { s.dirty, s.user = true, "alice" }), storeCaps{update: true}, indexPlan{}},
	}
	for _, tt := range tests {
		if got := decideSave(tt.s, now, &o, tt.c).index; got != tt.want {
			t.Errorf("%s: index plan %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
