package session_test

import (
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

// Accessed records reads of the session's content, which the middleware
// turns into "Vary: Cookie"; writes and bookkeeping calls are not reads.
func TestAccessed(t *testing.T) {
	tests := []struct {
		name string
		use  func(s *session.Session)
		want bool
	}{
		{"nothing", func(s *session.Session) {}, false},
		{"Get", func(s *session.Session) { s.Get("k") }, true},
		{"Has", func(s *session.Session) { s.Has("k") }, true},
		{"Value", func(s *session.Session) { session.Value[int](s, "k") }, true},
		{"Len", func(s *session.Session) { s.Len() }, true},
		{"Data", func(s *session.Session) { s.Data() }, true},
		{"Get on a destroyed session", func(s *session.Session) { s.Destroy(); s.Get("k") }, true},
		{"Set, Unset, Flash", func(s *session.Session) { s.Set("k", 1); s.Unset("j"); s.Flash("f", 1) }, false},
		{"ID, State", func(s *session.Session) { s.ID(); s.State() }, false},
		{"RegenerateID, Destroy", func(s *session.Session) { s.RegenerateID(true); s.Destroy() }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range []*session.Session{session.New(), session.Restore("id", session.Data{Values: map[string]any{"k": 1}})} {
				tt.use(s)
				if got := s.State().Accessed; got != tt.want {
					t.Errorf("State().Accessed = %v, want %v", got, tt.want)
				}
			}
		})
	}
}
