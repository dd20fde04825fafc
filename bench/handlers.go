package bench

import (
	"net/http"

	"github.com/alexedwards/scs/v2"
	"github.com/gorilla/sessions"
	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	sessionmiddleware "github.com/sessionkit/sessionkit/session-middleware"
)

// The handlers every comparison runs, one per library, doing the same work:
// a request without a cookie starts a session holding user_id=42 and
// name="alice"; a request with one checks user_id and, when write is true,
// increments a counter, which wraps at counterWrap. The benchmarks and the
// load generator (cmd/load) share them.

// counterWrap is where the counter starts over at 0. Go boxes an int of
// 256 or more in an interface with an allocation, which the handler's own
// code pays whatever library it uses; wrapping keeps that out of what the
// comparisons call session work, for every library alike.
const counterWrap = 200

// Secret is the signing secret every library uses; Key32 the encryption key
// of the sealed cookie workloads.
const Secret = "0123456789abcdef0123456789abcdef"

// Key32 is a 32-byte encryption key for the sealed workloads.
var Key32 = []byte("fedcba9876543210fedcba9876543210")

// SessionkitHandler serves the workload with sessionkit's middleware over st.
func SessionkitHandler(st session.Storage, write bool) (http.Handler, error) {
	c, err := cookie.New("session", cookie.Options{Secrets: []string{Secret}})
	if err != nil {
		return nil, err
	}
	mw, err := sessionmiddleware.New(c, st, sessionmiddleware.Options{})
	if err != nil {
		return nil, err
	}
	return mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		if r.Header.Get("Cookie") == "" {
			s.Set("user_id", 42)
			s.Set("name", "alice")
			return
		}
		if id, _ := session.Value[int](s, "user_id"); id != 42 {
			http.Error(w, "lost session", http.StatusInternalServerError)
			return
		}
		if write {
			n, _ := session.Value[int](s, "counter")
			s.Set("counter", (n+1)%counterWrap)
		}
	})), nil
}

// SCSHandler serves the workload with alexedwards/scs's session manager sm.
func SCSHandler(sm *scs.SessionManager, write bool) http.Handler {
	return sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Cookie") == "" {
			sm.Put(r.Context(), "user_id", 42)
			sm.Put(r.Context(), "name", "alice")
			return
		}
		if sm.GetInt(r.Context(), "user_id") != 42 {
			http.Error(w, "lost session", http.StatusInternalServerError)
			return
		}
		if write {
			sm.Put(r.Context(), "counter", (sm.GetInt(r.Context(), "counter")+1)%counterWrap)
		}
	}))
}

// GorillaHandler serves the workload with a gorilla/sessions store.
func GorillaHandler(store sessions.Store, write bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, "session")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if r.Header.Get("Cookie") == "" {
			s.Values["user_id"] = 42
			s.Values["name"] = "alice"
		} else {
			if s.Values["user_id"] != 42 {
				http.Error(w, "lost session", http.StatusInternalServerError)
				return
			}
			if !write {
				return
			}
			n, _ := s.Values["counter"].(int)
			s.Values["counter"] = (n + 1) % counterWrap
		}
		if err := s.Save(r, w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}
