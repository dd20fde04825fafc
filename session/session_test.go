package session_test

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// The Remix Session tests (remix-behaviour.md §4.1) in Go, adapted where our
// semantics differ on purpose (destroyed sessions do not throw).

func TestCreatesANewSession(t *testing.T) {
	s := session.New()
	if s == nil || s.ID() == "" || s.State().Destroyed || s.State().Dirty || s.Len() != 0 {
		t.Errorf("New(): id %q, Destroyed %v, Dirty %v, Len %d", s.ID(), s.State().Destroyed, s.State().Dirty, s.Len())
	}
	if s.State().ReplacedID != "" {
		t.Errorf("DeleteID = %q", s.State().ReplacedID)
	}
}

func TestCreatesANewSessionWithACustomID(t *testing.T) {
	if s := session.Restore("custom-id", session.Data{}); s.ID() != "custom-id" {
		t.Errorf("id %q", s.ID())
	}
}

func TestCreatesANewSessionWithInitialData(t *testing.T) {
	s := session.Restore("id", session.Data{Values: map[string]any{"hello": "world"}})
	if s.Len() != 1 || s.Get("hello") != "world" || s.State().Dirty {
		t.Errorf("Len %d, hello %v, Dirty %v", s.Len(), s.Get("hello"), s.State().Dirty)
	}
}

func TestCreatesANewSessionWithInitialFlashData(t *testing.T) {
	s := session.Restore("id", session.Data{Flash: map[string]any{"hello": "world"}})
	if s.Get("hello") != "world" || !s.State().Dirty {
		t.Errorf("hello %v, Dirty %v: a session loaded with flash is dirty so the flash is cleared", s.Get("hello"), s.State().Dirty)
	}
	// Loaded flash is consumed: not persisted again.
	if d := s.Data(); len(d.Flash) != 0 || len(d.Values) != 0 {
		t.Errorf("Data = %+v", d)
	}
}

func TestSetsAndGetsValues(t *testing.T) {
	s := session.New()
	if s.Has("hello") || s.Get("hello") != nil || s.State().Dirty {
		t.Fatal("fresh session")
	}
	s.Set("hello", "world")
	if !s.Has("hello") || s.Get("hello") != "world" || !s.State().Dirty {
		t.Errorf("after Set: Has %v, Get %v, Dirty %v", s.Has("hello"), s.Get("hello"), s.State().Dirty)
	}
	s.Unset("hello")
	if s.Has("hello") || s.Get("hello") != nil || !s.State().Dirty {
		t.Errorf("after Unset: Has %v, Get %v, Dirty %v", s.Has("hello"), s.Get("hello"), s.State().Dirty)
	}
	// Falsy values are kept.
	for _, v := range []any{0, "", false, 0.0, []any{}, map[string]any{}} {
		s.Set("k", v)
		if !s.Has("k") || !reflect.DeepEqual(s.Get("k"), v) {
			t.Errorf("Set(k, %#v): Has %v, Get %#v", v, s.Has("k"), s.Get("k"))
		}
	}
}

func TestSetsAndGetsValuesWithComplexTypes(t *testing.T) {
	s := session.New()
	v := map[string]any{"user": map[string]any{"name": "ann", "roles": []any{"a", "b"}}}
	s.Set("obj", v)
	if !reflect.DeepEqual(s.Get("obj"), v) {
		t.Errorf("Get = %v", s.Get("obj"))
	}
	s.Set("obj", map[string]any{"replaced": true})
	if !reflect.DeepEqual(s.Get("obj"), map[string]any{"replaced": true}) {
		t.Errorf("replace: %v", s.Get("obj"))
	}
}

func TestUnsetsValuesWhenSetToNil(t *testing.T) {
	s := session.Restore("id", session.Data{Values: map[string]any{"hello": "world"}})
	s.Set("hello", nil)
	if s.Has("hello") || s.Get("hello") != nil || !s.State().Dirty || s.Len() != 0 {
		t.Errorf("Has %v, Get %v, Dirty %v, Len %d", s.Has("hello"), s.Get("hello"), s.State().Dirty, s.Len())
	}
	// On a fresh session: dirty with empty data (Remix probe).
	f := session.New()
	f.Set("nothing", nil)
	if !f.State().Dirty || len(f.Data().Values) != 0 {
		t.Errorf("Set(nil) on a fresh session: Dirty %v, Data %+v", f.State().Dirty, f.Data())
	}
}

func TestRegeneratesTheSessionID(t *testing.T) {
	s := session.Restore("orig", session.Data{Values: map[string]any{"a": 1}})
	s.RegenerateID(false)
	if s.ID() == "orig" || !session.ValidID(s.ID()) || s.State().ReplacedID != "" || !s.State().Dirty {
		t.Errorf("id %q, DeleteID %q, Dirty %v", s.ID(), s.State().ReplacedID, s.State().Dirty)
	}
	if s.Get("a") != 1 {
		t.Error("data lost")
	}
}

func TestDeletesTheOldSessionID(t *testing.T) {
	s := session.Restore("orig", session.Data{})
	s.RegenerateID(true)
	if s.ID() == "orig" || s.State().ReplacedID != "orig" || !s.State().Dirty {
		t.Errorf("id %q, DeleteID %q, Dirty %v", s.ID(), s.State().ReplacedID, s.State().Dirty)
	}
}

func TestDestroysTheSession(t *testing.T) {
	s := session.New()
	if s.State().Destroyed {
		t.Fatal("destroyed at birth")
	}
	s.Destroy()
	if !s.State().Destroyed {
		t.Error("Destroyed() false after Destroy")
	}
}

func TestDeletesTheOriginalSessionWhenRegeneratedMoreThanOnce(t *testing.T) {
	s := session.Restore("orig", session.Data{})
	s.RegenerateID(true)
	first := s.ID()
	s.RegenerateID(true)
	if s.State().ReplacedID != "orig" || s.ID() == first {
		t.Errorf("DeleteID %q (want orig), id %q", s.State().ReplacedID, s.ID())
	}
	s.RegenerateID(false)
	if s.State().ReplacedID != "orig" {
		t.Errorf("RegenerateID(false) cleared DeleteID: %q", s.State().ReplacedID)
	}
}

// A destroyed session (Remix throws on set/unset/flash/regenerate; we do not:
// Set and Flash start a new session, the others do nothing).
func TestADestroyedSession(t *testing.T) {
	loaded := func() *session.Session {
		return session.Restore("orig", session.Data{
			Values: map[string]any{"hello": "world"},
			Flash:  map[string]any{"f": 1},
		})
	}
	t.Run("get returns nil", func(t *testing.T) {
		s := loaded()
		if s.Get("hello") != "world" {
			t.Fatal("value missing before destroy")
		}
		s.Destroy()
		if s.Get("hello") != nil || s.Get("f") != nil {
			t.Error("values visible after Destroy")
		}
	})
	t.Run("has returns false", func(t *testing.T) {
		s := loaded()
		s.Destroy()
		if s.Has("hello") || s.Has("f") {
			t.Error("Has true after Destroy")
		}
	})
	t.Run("len and data are empty, id unchanged, dirty unchanged", func(t *testing.T) {
		s := loaded()
		s.Destroy()
		s.Destroy() // twice is fine
		d := s.Data()
		if s.Len() != 0 || len(d.Values) != 0 || len(d.Flash) != 0 || d.Values == nil || d.Flash == nil {
			t.Errorf("Len %d, Data %#v", s.Len(), d)
		}
		if s.ID() != "orig" || !s.State().Dirty {
			t.Errorf("id %q, Dirty %v", s.ID(), s.State().Dirty)
		}
		c := session.New()
		c.Destroy()
		if c.State().Dirty {
			t.Error("Destroy marked a clean session dirty (Dirty keeps its value; Save handles destroyed sessions)")
		}
	})
	t.Run("unset, set nil and regenerate do nothing", func(t *testing.T) {
		s := loaded()
		s.Destroy()
		s.Unset("hello")
		s.Set("hello", nil)
		s.RegenerateID(true)
		if !s.State().Destroyed || s.ID() != "orig" || s.State().ReplacedID != "" || s.Len() != 0 {
			t.Errorf("Destroyed %v, id %q, DeleteID %q, Len %d", s.State().Destroyed, s.ID(), s.State().ReplacedID, s.Len())
		}
	})
	t.Run("set starts a new session", func(t *testing.T) {
		s := loaded()
		s.Destroy()
		s.Set("a", 1)
		if s.State().Destroyed || s.ID() == "orig" || !session.ValidID(s.ID()) || s.Has("hello") || s.Get("a") != 1 || s.Len() != 1 || !s.State().Dirty {
			t.Errorf("Destroyed %v, id %q, Data %+v", s.State().Destroyed, s.ID(), s.Data())
		}
	})
	t.Run("flash starts a new session", func(t *testing.T) {
		s := loaded()
		s.Destroy()
		s.Flash("msg", "bye")
		if s.State().Destroyed || s.ID() == "orig" || s.Has("msg") || s.Len() != 0 || !s.State().Dirty {
			t.Errorf("Destroyed %v, id %q, Has(msg) %v", s.State().Destroyed, s.ID(), s.Has("msg"))
		}
		if d := s.Data(); d.Flash["msg"] != "bye" || len(d.Values) != 0 {
			t.Errorf("Data %+v", d)
		}
	})
}

// Remix probes (§4.7), adapted.
func TestFlashSemantics(t *testing.T) {
	s := session.Restore("id", session.Data{
		Values: map[string]any{"both": "value", "v": 1},
		Flash:  map[string]any{"both": "flash", "f": 2},
	})
	if s.Get("both") != "value" {
		t.Errorf("a value loses to a flash of the same key: %v", s.Get("both"))
	}
	if s.Len() != 3 {
		t.Errorf("Len %d, want 3 distinct keys", s.Len())
	}
	s.Flash("next", 3)
	s.Flash("next", 4) // last write wins
	if s.Has("next") || s.Len() != 3 {
		t.Errorf("this request's flash is visible: Has %v, Len %d", s.Has("next"), s.Len())
	}
	// Unset removes loaded flash too (deliberate difference from Remix).
	s.Unset("f")
	if s.Has("f") || s.Get("f") != nil {
		t.Error("Unset left a loaded flash readable")
	}
	s.Unset("both")
	if s.Has("both") {
		t.Errorf("Unset left the flash under a removed value: %v", s.Get("both"))
	}
	d := s.Data()
	if !reflect.DeepEqual(d.Values, map[string]any{"v": 1}) || !reflect.DeepEqual(d.Flash, map[string]any{"next": 4}) {
		t.Errorf("Data %+v", d)
	}
}

func TestRestoreCopiesMaps(t *testing.T) {
	values := map[string]any{"a": 1}
	flash := map[string]any{"f": 1}
	s := session.Restore("id", session.Data{Values: values, Flash: flash})
	values["a"] = 2
	values["b"] = 3
	flash["f"] = 2
	if s.Get("a") != 1 || s.Has("b") || s.Get("f") != 1 {
		t.Error("Restore shares the caller's maps")
	}
	s.Set("c", 1)
	if _, ok := values["c"]; ok {
		t.Error("Set wrote into the caller's map")
	}
	d := s.Data()
	d.Values["x"] = 1
	if s.Has("x") {
		t.Error("Data returned the session's own map")
	}
}

// Issue 8.5: Restore never hands on an id that ValidID refuses (one with a
// quote could add a second "i" to a cookie payload, or reach a Backend): it
// keeps the data under a fresh id.
func TestRestoreValidatesTheID(t *testing.T) {
	for _, id := range append([]string{`x","i":"victim`, strings.Repeat("a", 129), ""}, sessiontest.MalformedCookieValues...) {
		s := session.Restore(id, session.Data{Values: map[string]any{"a": 1}})
		if got := s.ID(); got == id || !session.ValidID(got) {
			t.Errorf("Restore(%.40q).ID() = %.40q, want a fresh valid id", id, got)
		}
		if s.Get("a") != 1 {
			t.Errorf("Restore(%.40q) lost the data", id)
		}
		// Saved, then destroyed: the backend sees only the fresh id.
		b := sessiontest.NewBackend(nil)
		st := mustStorage(t, b, session.Options{})
		s.Set("b", 2)
		if _, _, err := st.Save(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		s.Destroy()
		if _, _, err := st.Save(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		for _, c := range b.Calls() {
			if !session.ValidID(c.Key) {
				t.Errorf("Restore(%.40q): the backend saw %s(%.40q)", id, c.Op, c.Key)
			}
		}
	}
	if s := session.Restore("abc-DEF_123", session.Data{}); s.ID() != "abc-DEF_123" {
		t.Errorf("a valid id was replaced: %q", s.ID())
	}
}

func TestRegenerateIDOfNewSessionKeepsNoRecord(t *testing.T) {
	s := session.New()
	orig := s.ID()
	s.RegenerateID(true)
	if s.State().ReplacedID != orig {
		t.Errorf("DeleteID %q, want %q", s.State().ReplacedID, orig)
	}
}

func TestSessionConcurrentUse(t *testing.T) {
	s := session.Restore("id", session.Data{Values: map[string]any{"a": 1}, Flash: map[string]any{"f": 1}})
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 10 {
			case 0:
				s.RegenerateID(i%20 == 0)
			case 1:
				s.Flash("x", i)
			case 2:
				s.Unset("a")
			case 3:
				_ = s.Data()
			case 4:
				s.Persist(i%20 == 4)
				s.PersistByDefault(true)
				_ = s.Persistent()
				_, _, _ = s.Created(), s.ExpiresAt(), s.ExpiresIn()
			default:
				s.Set("k", i)
				_ = s.Get("k")
				_ = s.Has("f")
				_ = s.Len()
				_ = s.ID()
				_ = s.State().ReplacedID
				_ = s.State().Dirty
				_ = s.State().Destroyed
			}
		}()
	}
	wg.Wait()
	if !s.State().Dirty {
		t.Error("not dirty")
	}
}

// Persist is a change only when it changes the saved choice; a session
// without a choice follows PersistByDefault, which is no change; Restore
// and New make no choice.
func TestPersist(t *testing.T) {
	s := session.Restore("id", session.Data{Values: map[string]any{"a": 1}})
	if s.Persistent() || s.State().Dirty {
		t.Fatalf("restored: Persistent %v, Dirty %v", s.Persistent(), s.State().Dirty)
	}
	s.PersistByDefault(true)
	if !s.Persistent() || s.State().Dirty {
		t.Errorf("PersistByDefault(true): Persistent %v, Dirty %v; want true, false", s.Persistent(), s.State().Dirty)
	}
	s.Persist(false)
	if s.Persistent() || !s.State().Dirty {
		t.Errorf("Persist(false) over a true default: Persistent %v, Dirty %v; want false, true", s.Persistent(), s.State().Dirty)
	}
	s.RegenerateID(false)
	if s.Persistent() {
		t.Error("RegenerateID dropped the choice")
	}
	n := session.New()
	n.Persist(true)
	if !n.Persistent() || !n.State().Dirty {
		t.Errorf("Persist(true) on a new session: Persistent %v, Dirty %v; want true, true", n.Persistent(), n.State().Dirty)
	}
	d := session.New()
	d.Destroy()
	d.Persist(true)
	if d.Persistent() || d.State().Dirty {
		t.Errorf("Persist on a destroyed session: Persistent %v, Dirty %v; want false, false (no effect)", d.Persistent(), d.State().Dirty)
	}
	if !n.Created().IsZero() || !n.ExpiresAt().IsZero() || n.ExpiresIn() != 0 {
		t.Errorf("new session: Created %v, ExpiresAt %v, ExpiresIn %v; want zero before its first save", n.Created(), n.ExpiresAt(), n.ExpiresIn())
	}
}
