package sessiontest

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// scenarios are run in this order. The names of the first ones are those of
// the Remix storage suites (remix-behaviour.md §4.2).
var scenarios = []scenario{
	{name: "persists session data across requests", run: persists},
	{name: "clears session data when the session is destroyed", run: clearsOnDestroy},
	{name: "does not set a cookie when session data is not changed", run: noCookieWhenUnchanged},
	{name: "makes flash data available only on the next request", run: flashNextRequestOnly},
	{name: "leaves old session data in storage by default when the id is regenerated", run: regenerateKeepsOld},
	{name: "deletes old session data when the id is regenerated and the deleteOldSession option is true", serverSide: true, run: regenerateDeletesOld},
	{name: "notes once, not as a warning, that a regenerated id's old cookie stays valid (Remix warns on each)", cookieSide: true, run: regenerateNotes},
	{name: "does not use unknown session IDs by default", serverSide: true, run: unknownIDsRefused},
	{name: "uses unknown session IDs if enabled", serverSide: true, run: unknownIDsAdopted},

	{name: "flash after destroy starts a new session (logged-out message)", run: destroyThenFlash},
	{name: "set after destroy starts a new session and deletes the old record", run: destroyThenSet},
	{name: "regenerating twice deletes the original record", serverSide: true, run: regenerateTwice},
	{name: "destroy after regenerate without delete deletes the original record", serverSide: true, run: destroyAfterRegenerate},
	{name: "regeneration keeps the data under the new id", run: regenerateKeepsData},
	{name: "destroying a session that was never stored expires the cookie", run: destroyNew},
	{name: "malformed cookie values give a new session", run: malformedIDs},
	{name: "values of every JSON type round-trip", run: valuesRoundTrip},
	{name: "set nil and unset remove keys from storage", run: removeKeys},
	{name: "an unchanged session is not written", run: unchangedNotWritten},
	{name: "a session is clean after a successful save", run: cleanAfterSave},
	{name: "stored data is isolated from the maps a handler holds", run: copiesIsolated},
	{name: "reads records written by Remix", serverSide: true, put: true, run: readsRemixRecord},
	{name: "writes records Remix can read", serverSide: true, get: true, run: writesRemixRecord},
	{name: "a corrupt record is logged and treated as absent", serverSide: true, put: true, run: corruptRecord},
	{name: "a record over MaxRecordSize fails Save and leaves the stored session intact", serverSide: true, run: recordTooLarge},
	{name: "lifetime ends a session however active", run: lifetimeAbsolute},
	{name: "lifetime is kept across id regeneration", run: lifetimeAcrossRegenerate},
	{name: "lifetime restarts for a new session after destroy", run: lifetimeAfterDestroy},
	{name: "zero options: a session ends DefaultLifetime (14 days) after creation", run: lifetimeDefault},
	{name: "a negative lifetime means none", run: lifetimeNone},
	{name: "idle timeout ends an inactive session", clock: true, run: idleExpires},
	{name: "idle timeout slides with read-only requests", clock: true, run: idleSlides},
	{name: "sliding refresh is throttled to a tenth of the idle timeout", clock: true, run: idleThrottled},
	{name: "of two overlapping requests that set different keys both keep theirs (T-CC1)", serverSide: true, run: mergeDifferentKeys},
	{name: "a save does not bring back a session a concurrent request destroyed (T-CC2)", serverSide: true, run: noResurrectAfterDestroy},
	{name: "a save does not bring back an id a concurrent login regenerated (T-CC3)", serverSide: true, run: noResurrectAfterRegenerate},
	{name: "concurrent requests on one session (T-CC4)", run: concurrentRequests},
	{name: "concurrent use of one session object", run: concurrentSessionObject},
	// Persistence ("remember me") and the session's times: persist.go.
	{name: "the persistence choice is saved with the session", run: persistKept},
	{name: "a persistent session's sliding refresh sends its cookie again", run: persistRefreshSendsCookie},
	{name: "Created, ExpiresAt and ExpiresIn follow the record", run: sessionTimes},
}

func persists(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, n := e.countReq("", nil)
	if n != 1 {
		t.Fatalf("first request: count %d, want 1", n)
	}
	c2, n := e.countReq(c1, nil)
	if n != 2 {
		t.Fatalf("second request: count %d, want 2", n)
	}
	if _, n = e.countReq(c2, nil); n != 3 {
		t.Fatalf("third request: count %d, want 3", n)
	}
	if c.ServerSide && c1 != c2 {
		t.Errorf("the id changed between requests: %q then %q", c1, c2)
	}
}

func clearsOnDestroy(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, _ := e.countReq("", nil)
	c2, n := e.countReq(c1, nil)
	if n != 2 {
		t.Fatalf("count %d, want 2", n)
	}
	s := e.read(c2)
	destroyedID := s.ID()
	s.Destroy()
	if !s.State().Destroyed {
		t.Fatal("Destroyed() is false after Destroy")
	}
	v, set := e.save(s)
	if !set || v != "" {
		t.Fatalf("Save of a destroyed session = (%q, %v), want (\"\", true): expire the cookie", v, set)
	}
	// The browser drops the cookie: the next request starts afresh.
	if _, n := e.countReq(v, nil); n != 1 {
		t.Errorf("after destroy: count %d, want 1", n)
	}
	if c.ServerSide {
		// T-RPL1: a replayed cookie of the destroyed session loads nothing.
		s := e.read(c2)
		if s.ID() == destroyedID {
			t.Errorf("the destroyed id %q was loaded again", destroyedID)
		}
		if s.Has("count") {
			t.Errorf("the destroyed session's data came back: count=%v", s.Get("count"))
		}
		if e.canCount() {
			if n := e.count(); n != 1 {
				t.Errorf("%d records in the store, want 1 (the new session only)", n)
			}
		}
		if c.Get != nil {
			if _, ok := c.Get(t, e.st, destroyedID); ok {
				t.Errorf("the destroyed session's record is still stored")
			}
		}
	}
}

func noCookieWhenUnchanged(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	s := e.read("")
	if s.State().Dirty {
		t.Error("a new session is dirty")
	}
	if s.Len() != 0 || s.State().Destroyed {
		t.Errorf("a new session: Len %d, Destroyed %v", s.Len(), s.State().Destroyed)
	}
	if v, set := e.save(s); set || v != "" {
		t.Errorf("Save of an unchanged new session = (%q, %v), want (\"\", false)", v, set)
	}
	// T-MEM1: a storm of anonymous requests that only read stores nothing.
	for i := 0; i < 100; i++ {
		if _, set := e.req("", func(s *session.Session) { _ = s.Get("user") }); set {
			t.Fatal("an anonymous read-only request sent a Set-Cookie")
		}
	}
	if e.canCount() {
		if n := e.count(); n != 0 {
			t.Errorf("T-MEM1: %d records stored after read-only anonymous requests, want 0", n)
		}
	}
	// A stored session that is only read sends no cookie either.
	c1, _ := e.countReq("", nil)
	if _, set := e.req(c1, func(s *session.Session) { _ = s.Get("count") }); set {
		t.Error("a read-only request on a stored session sent a Set-Cookie")
	}
}

func flashNextRequestOnly(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, set := e.req("", func(s *session.Session) {
		if s.Get("message") != nil {
			t.Errorf("index: message = %v, want nil", s.Get("message"))
		}
	})
	if set {
		t.Error("the index request sent a Set-Cookie")
	}
	c2, set := e.req(c1, func(s *session.Session) {
		s.Flash("message", "success!")
		if s.Get("message") != nil || s.Has("message") {
			t.Errorf("flash is visible in the request that set it: %v", s.Get("message"))
		}
	})
	if !set {
		t.Fatal("the flash request sent no Set-Cookie")
	}
	c3, set := e.req(c2, func(s *session.Session) {
		if !s.State().Dirty {
			t.Error("a session loaded with flash is not dirty")
		}
		if got := s.Get("message"); got != "success!" {
			t.Errorf("next request: message = %v, want success!", got)
		}
		if !s.Has("message") || s.Len() != 1 {
			t.Errorf("next request: Has %v, Len %d", s.Has("message"), s.Len())
		}
	})
	if !set {
		t.Error("the request that consumed the flash sent no Set-Cookie (the flash must be cleared)")
	}
	_, set = e.req(c3, func(s *session.Session) {
		if got := s.Get("message"); got != nil {
			t.Errorf("second request after the flash: message = %v, want nil", got)
		}
		if s.State().Dirty {
			t.Error("the session is dirty after the flash was consumed")
		}
	})
	if set {
		t.Error("a request after the flash was consumed sent a Set-Cookie")
	}
	// Consumed even when nobody read it.
	c4, _ := e.req(c3, func(s *session.Session) { s.Flash("unread", true) })
	c5, _ := e.req(c4, nil)
	e.req(c5, func(s *session.Session) {
		if s.Has("unread") {
			t.Error("an unread flash survived two requests")
		}
	})
}

func regenerateKeepsOld(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	cA, _ := e.countReq("", nil)
	idA := e.read(cA).ID()
	cB, _ := e.req(cA, func(s *session.Session) {
		s.RegenerateID(false)
		if s.ID() == idA {
			t.Error("RegenerateID kept the id")
		}
		if s.State().ReplacedID != "" {
			t.Errorf("DeleteID = %q after RegenerateID(false)", s.State().ReplacedID)
		}
	})
	if cB == cA {
		t.Fatal("the cookie did not change after RegenerateID")
	}
	if _, n := e.countReq(cB, nil); n != 2 {
		t.Errorf("new id: count %d, want 2", n)
	}
	if _, n := e.countReq(cA, nil); n != 2 {
		t.Errorf("old id: count %d, want 2 (its record was left in place)", n)
	}
}

func regenerateDeletesOld(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	cA, _ := e.countReq("", nil)
	cB, _ := e.req(cA, func(s *session.Session) {
		s.RegenerateID(true)
		if s.ID() == cA {
			t.Error("RegenerateID kept the id")
		}
		if s.State().ReplacedID != cA {
			t.Errorf("DeleteID = %q, want the original id", s.State().ReplacedID)
		}
	})
	if _, n := e.countReq(cB, nil); n != 2 {
		t.Errorf("new id: count %d, want 2", n)
	}
	s := e.read(cA)
	if s.ID() == cA || s.Has("count") {
		t.Errorf("T-RG1: the old id still loads (id %q, count %v)", s.ID(), s.Get("count"))
	}
	if c.Get != nil {
		if _, ok := c.Get(t, e.st, cA); ok {
			t.Error("the old record is still stored")
		}
	}
	if e.canCount() {
		if n := e.count(); n != 1 {
			t.Errorf("%d records stored, want 1", n)
		}
	}
}

func regenerateNotes(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, n := e.countReq("", nil)
	if n != 1 {
		t.Fatalf("count %d, want 1", n)
	}
	c2, n := e.countReq(c1, func(s *session.Session) { s.RegenerateID(true) })
	if n != 2 {
		t.Fatalf("count %d, want 2", n)
	}
	// Remix warns on every such save; a cookie that cannot be ended is how
	// client-side storage works, not a fault, so it is one Info line.
	if w, n := e.logs.Warnings(), strings.Count(e.logs.String(), "RegenerateID(true)"); w != 0 || n != 1 {
		t.Errorf("%d warnings and %d notes logged, want 0 and 1:\n%s", w, n, e.logs)
	}
	c3, n := e.countReq(c2, func(s *session.Session) { s.RegenerateID(true) })
	if n != 3 {
		t.Errorf("count %d, want 3", n)
	}
	if _, n := e.countReq(c3, nil); n != 4 {
		t.Errorf("count %d, want 4", n)
	}
	if n := strings.Count(e.logs.String(), "RegenerateID(true)"); n != 1 {
		t.Errorf("%d notes after later regenerations, want still 1:\n%s", n, e.logs)
	}
}

func unknownIDsRefused(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	for _, id := range []string{"unknown", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "6ddda97e-5d4b-4a5e-9b7e-0123456789ab"} {
		s := e.read(id)
		if s.ID() == id {
			t.Errorf("read(%q) adopted the unknown id", id)
		}
		if !session.ValidID(s.ID()) || s.Len() != 0 || s.State().Dirty {
			t.Errorf("read(%q): id %q, Len %d, Dirty %v", id, s.ID(), s.Len(), s.State().Dirty)
		}
		if v, set := e.save(s); set {
			t.Errorf("saving the clean new session set the cookie to %q", v)
		}
		// Written when changed, under the new id only.
		s = e.read(id)
		s.Set("x", 1)
		v, set := e.save(s)
		if !set || v == id || v != s.ID() {
			t.Errorf("save = (%q, %v), want the new id %q", v, set, s.ID())
		}
		if c.Get != nil {
			if _, ok := c.Get(t, e.st, id); ok {
				t.Errorf("T-FX1: a record was created for the unknown id %q", id)
			}
		}
	}
	if e.canCount() {
		if n := e.count(); n != 3 {
			t.Errorf("%d records, want 3", n)
		}
	}
}

func unknownIDsAdopted(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.UseUnknownIDs = true })
	s := e.read("unknown")
	if s.ID() != "unknown" {
		t.Fatalf("read(unknown).ID() = %q, want unknown", s.ID())
	}
	if s.State().Dirty || s.Len() != 0 {
		t.Errorf("adopted session: Dirty %v, Len %d", s.State().Dirty, s.Len())
	}
	if _, set := e.save(s); set {
		t.Error("saving the clean adopted session set a cookie")
	}
	if e.canCount() {
		if n := e.count(); n != 0 {
			t.Errorf("T-FX1: %d records after reading an unknown id, want 0", n)
		}
	}
	c1, n := e.countReq("unknown", nil)
	if c1 != "unknown" || n != 1 {
		t.Errorf("request with the adopted id: cookie %q, count %d", c1, n)
	}
	if _, n := e.countReq("unknown", nil); n != 2 {
		t.Errorf("count %d, want 2", n)
	}
	// "" and malformed ids are never adopted.
	for _, bad := range []string{"", "../x", "a b", strings.Repeat("a", 129)} {
		if s := e.read(bad); s.ID() == bad || !session.ValidID(s.ID()) {
			t.Errorf("read(%.20q) gave id %.20q", bad, s.ID())
		}
	}
}

func destroyThenFlash(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, _ := e.req("", func(s *session.Session) { s.Set("user", "alice") })
	var newID string
	c2, set := e.req(c1, func(s *session.Session) {
		old := s.ID()
		s.Destroy()
		s.Flash("message", "you have been signed out")
		newID = s.ID()
		if s.State().Destroyed {
			t.Error("Destroyed() is true after Flash started a new session")
		}
		if newID == old {
			t.Error("Flash after Destroy kept the destroyed id")
		}
		if s.Has("user") || s.Has("message") {
			t.Error("the new session sees old data or this request's flash")
		}
	})
	if !set || c2 == "" || c2 == c1 {
		t.Fatalf("save = (%.40q, %v), want a new cookie", c2, set)
	}
	e.req(c2, func(s *session.Session) {
		if got := s.Get("message"); got != "you have been signed out" {
			t.Errorf("message = %v", got)
		}
		if s.Has("user") {
			t.Error("user survived the logout")
		}
		if s.ID() != newID {
			t.Errorf("id %q, want %q", s.ID(), newID)
		}
	})
	if c.ServerSide {
		if s := e.read(c1); s.ID() == c1 || s.Has("user") {
			t.Error("the destroyed session still loads")
		}
	}
}

func destroyThenSet(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, _ := e.req("", func(s *session.Session) { s.Set("user", "alice") })
	c2, set := e.req(c1, func(s *session.Session) {
		s.Destroy()
		s.Set("theme", "dark")
		if s.State().Destroyed || s.Len() != 1 || s.Has("user") {
			t.Errorf("after Destroy+Set: Destroyed %v, Len %d, Has(user) %v", s.State().Destroyed, s.Len(), s.Has("user"))
		}
	})
	if !set || c2 == "" {
		t.Fatalf("save = (%.40q, %v)", c2, set)
	}
	e.req(c2, func(s *session.Session) {
		if s.Get("theme") != "dark" || s.Has("user") {
			t.Errorf("new session: theme %v, user %v", s.Get("theme"), s.Get("user"))
		}
	})
	if c.ServerSide {
		if c2 == c1 {
			t.Error("Set after Destroy kept the destroyed id")
		}
		if s := e.read(c1); s.Has("user") {
			t.Error("the destroyed record was not deleted")
		}
		if e.canCount() {
			if n := e.count(); n != 1 {
				t.Errorf("%d records, want 1", n)
			}
		}
	}
}

func regenerateTwice(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	cA, _ := e.countReq("", nil)
	cC, _ := e.req(cA, func(s *session.Session) {
		s.RegenerateID(true)
		s.RegenerateID(true)
		if s.State().ReplacedID != cA {
			t.Errorf("DeleteID = %q, want the original %q", s.State().ReplacedID, cA)
		}
		s.RegenerateID(false)
		if s.State().ReplacedID != cA {
			t.Errorf("DeleteID after RegenerateID(false) = %q, want the original", s.State().ReplacedID)
		}
	})
	if s := e.read(cA); s.Has("count") {
		t.Error("T-RG3: the original record survived two regenerations")
	}
	if _, n := e.countReq(cC, nil); n != 2 {
		t.Errorf("count under the final id %d, want 2", n)
	}
	if e.canCount() {
		if n := e.count(); n != 1 {
			t.Errorf("%d records, want 1", n)
		}
	}
}

func destroyAfterRegenerate(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	cA, _ := e.countReq("", nil)
	v, set := e.req(cA, func(s *session.Session) {
		s.RegenerateID(false)
		s.Destroy()
	})
	if !set || v != "" {
		t.Fatalf("save = (%q, %v), want (\"\", true)", v, set)
	}
	if s := e.read(cA); s.Has("count") {
		t.Error("the original record survived RegenerateID(false) then Destroy")
	}
	if e.canCount() {
		if n := e.count(); n != 0 {
			t.Errorf("%d records, want 0", n)
		}
	}
}

func regenerateKeepsData(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, _ := e.req("", func(s *session.Session) {
		s.Set("user", "alice")
		s.Flash("note", "hi")
	})
	c2, _ := e.req(c1, func(s *session.Session) {
		s.RegenerateID(true)
		s.Flash("next", "x")
		if s.Get("user") != "alice" || s.Get("note") != "hi" {
			t.Errorf("T-RG2: data lost by RegenerateID: %v", s.Data())
		}
	})
	e.req(c2, func(s *session.Session) {
		if s.Get("user") != "alice" || s.Get("next") != "x" || s.Has("note") {
			t.Errorf("after regeneration: user %v, next %v, note %v", s.Get("user"), s.Get("next"), s.Get("note"))
		}
	})
}

func destroyNew(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	s := e.read("")
	s.Destroy()
	if v, set := e.save(s); !set || v != "" {
		t.Errorf("save = (%q, %v), want (\"\", true)", v, set)
	}
	s = e.read("")
	s.Destroy()
	s.Destroy() // twice is fine
	s.Unset("a")
	s.Set("a", nil)
	s.RegenerateID(true)
	if !s.State().Destroyed || s.Get("a") != nil || s.Len() != 0 {
		t.Error("Unset/Set(nil)/RegenerateID changed a destroyed session")
	}
	if v, set := e.save(s); !set || v != "" {
		t.Errorf("save = (%q, %v), want (\"\", true)", v, set)
	}
	if e.canCount() {
		if n := e.count(); n != 0 {
			t.Errorf("%d records, want 0", n)
		}
	}
}

// MalformedCookieValues are cookie values that no storage may take as an id
// (T-ID5, T-FS1): traversal, separators, control characters, overlong.
var MalformedCookieValues = []string{
	"../../etc/x",
	`..\..\x`,
	"/abs",
	"a/b/c",
	"%2e%2e%2f",
	"abc\x00def",
	"abc\r\nflush_all\r\n",
	"a b",
	"id;other=1",
	"ünïcode",
	strings.Repeat("a", 129),
	strings.Repeat("x", 10<<10),
	"{\"i\":\"../x\",\"d\":[{},{}]}",
}

func malformedIDs(t *testing.T, c Config) {
	for _, unknown := range []bool{false, true} {
		if unknown && !c.ServerSide {
			continue
		}
		e := newEnv(t, c, func(o *session.Options) { o.UseUnknownIDs = unknown })
		for _, bad := range MalformedCookieValues {
			s := e.read(bad)
			if s.ID() == bad || !session.ValidID(s.ID()) || len(s.ID()) != 43 {
				t.Errorf("read(%.30q) (UseUnknownIDs %v): id %.30q, want a new 43-character id", bad, unknown, s.ID())
			}
			if s.Len() != 0 || s.State().Dirty {
				t.Errorf("read(%.30q): Len %d, Dirty %v", bad, s.Len(), s.State().Dirty)
			}
			if _, set := e.save(s); set {
				t.Errorf("read(%.30q): the clean session set a cookie", bad)
			}
		}
		if e.canCount() {
			if n := e.count(); n != 0 {
				t.Errorf("%d records after malformed reads, want 0", n)
			}
		}
	}
}

func valuesRoundTrip(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	type point struct {
		X int    `json:"x"`
		Y string `json:"y"`
	}
	in := map[string]any{
		"string":                   "hello",
		"empty":                    "",
		"float":                    3.5,
		"negexp":                   -1.25e-7,
		"int":                      42,
		"zero":                     0,
		"big":                      int64(1) << 53,
		"true":                     true,
		"false":                    false,
		"nested":                   map[string]any{"a": map[string]any{"b": []any{1, "two", nil, false}}},
		"slice":                    []any{"a", 1.5, true, map[string]any{}},
		"strings":                  []string{"x", "y"},
		"unicode":                  "héllo, 世界 🌍 \u2028\u2029 \t\"\\ <script>&'",
		"struct":                   point{X: 7, Y: "q"},
		"":                         "empty key",
		"key with spaces and ключ": 1,
		"__proto__":                "p",
	}
	want := map[string]any{
		"string":                   "hello",
		"empty":                    "",
		"float":                    3.5,
		"negexp":                   -1.25e-7,
		"int":                      42.0,
		"zero":                     0.0,
		"big":                      float64(int64(1) << 53),
		"true":                     true,
		"false":                    false,
		"nested":                   map[string]any{"a": map[string]any{"b": []any{1.0, "two", nil, false}}},
		"slice":                    []any{"a", 1.5, true, map[string]any{}},
		"strings":                  []any{"x", "y"},
		"unicode":                  "héllo, 世界 🌍 \u2028\u2029 \t\"\\ <script>&'",
		"struct":                   map[string]any{"x": 7.0, "y": "q"},
		"":                         "empty key",
		"key with spaces and ключ": 1.0,
		"__proto__":                "p",
	}
	c1, _ := e.req("", func(s *session.Session) {
		for k, v := range in {
			s.Set(k, v)
		}
		s.Flash("flash", map[string]any{"n": 1, "s": []any{"ü"}})
	})
	e.req(c1, func(s *session.Session) {
		for k, w := range want {
			if got := s.Get(k); !reflect.DeepEqual(got, w) {
				t.Errorf("Get(%q) = %#v, want %#v", k, got, w)
			}
		}
		if got, w := s.Get("flash"), (map[string]any{"n": 1.0, "s": []any{"ü"}}); !reflect.DeepEqual(got, w) {
			t.Errorf("flash = %#v, want %#v", got, w)
		}
		if n, ok := session.Value[int](s, "int"); !ok || n != 42 {
			t.Errorf("Value[int](int) = %d, %v", n, ok)
		}
		if n, ok := session.Value[int64](s, "big"); !ok || n != 1<<53 {
			t.Errorf("Value[int64](big) = %d, %v", n, ok)
		}
		if _, ok := session.Value[int](s, "float"); ok {
			t.Error("Value[int](3.5) succeeded")
		}
		if p, ok := session.Value[point](s, "struct"); !ok || p != (point{7, "q"}) {
			t.Errorf("Value[point] = %+v, %v", p, ok)
		}
		if ss, ok := session.Value[[]string](s, "strings"); !ok || !reflect.DeepEqual(ss, []string{"x", "y"}) {
			t.Errorf("Value[[]string] = %v, %v", ss, ok)
		}
		if b, ok := session.Value[bool](s, "false"); !ok || b {
			t.Errorf("Value[bool](false) = %v, %v", b, ok)
		}
		if s.Len() != len(want)+1 {
			t.Errorf("Len %d, want %d", s.Len(), len(want)+1)
		}
	})
}

func removeKeys(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, _ := e.req("", func(s *session.Session) {
		s.Set("a", 1)
		s.Set("b", 2)
		s.Set("c", 3)
	})
	c2, set := e.req(c1, func(s *session.Session) {
		s.Set("a", nil)
		s.Unset("b")
	})
	if !set {
		t.Fatal("removing keys sent no Set-Cookie")
	}
	e.req(c2, func(s *session.Session) {
		if s.Has("a") || s.Has("b") || s.Get("c") != 3.0 || s.Len() != 1 {
			t.Errorf("after removal: a %v, b %v, c %v, Len %d", s.Get("a"), s.Get("b"), s.Get("c"), s.Len())
		}
	})
}

func unchangedNotWritten(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, _ := e.req("", func(s *session.Session) { s.Set("user", "alice") })
	var before []byte
	if c.Get != nil {
		var ok bool
		if before, ok = c.Get(t, e.st, c1); !ok {
			t.Fatal("no record stored under the returned id")
		}
	}
	for i := 0; i < 5; i++ {
		e.clock.Advance(time.Second)
		if _, set := e.req(c1, func(s *session.Session) {
			_ = s.Get("user")
			_ = s.Has("x")
			_ = s.Len()
			_ = s.Data()
		}); set {
			t.Fatal("a read-only request sent a Set-Cookie")
		}
	}
	if c.Get != nil {
		after, _ := c.Get(t, e.st, c1)
		if string(after) != string(before) {
			t.Errorf("the record was rewritten by read-only requests:\n%s\n%s", before, after)
		}
	}
}

func cleanAfterSave(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	s := e.read("")
	s.Set("a", 1)
	if !s.State().Dirty {
		t.Fatal("not dirty after Set")
	}
	v, set := e.save(s)
	if !set || v == "" {
		t.Fatalf("save = (%.40q, %v)", v, set)
	}
	if c.ServerSide && v != s.ID() {
		t.Errorf("server-side cookie value %q, want the id %q", v, s.ID())
	}
	if s.State().Dirty {
		t.Error("dirty after a successful save")
	}
	// A second save of the unchanged session writes nothing.
	if v2, set := e.save(s); set {
		t.Errorf("second save set the cookie to %.40q", v2)
	}
	s.Set("b", 2) // a change after the save is visible to the middleware
	if !s.State().Dirty {
		t.Error("not dirty after a change made after the save")
	}
	v3, set := e.save(s)
	if !set {
		t.Fatal("saving the change sent no cookie")
	}
	e.req(v3, func(s *session.Session) {
		if s.Get("a") != 1.0 || s.Get("b") != 2.0 {
			t.Errorf("a %v, b %v", s.Get("a"), s.Get("b"))
		}
	})
}

func copiesIsolated(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	m := map[string]any{"a": 1.0}
	list := []any{"x"}
	c1, _ := e.req("", func(s *session.Session) {
		s.Set("m", m)
		s.Set("list", list)
	})
	m["a"] = 2.0 // the handler's map, after the save
	list[0] = "changed"
	// The saved session object itself, changed after its save.
	saved := e.read(c1)
	saved.Set("touched", 1)
	c1, _ = e.save(saved)
	saved.Set("later", 1)
	if s := e.read(c1); s.Has("later") {
		t.Errorf("a change to a session object after its save reached the store: %v", s.Data())
	}
	e.req(c1, func(s *session.Session) {
		got, _ := s.Get("m").(map[string]any)
		if got["a"] != 1.0 {
			t.Errorf("a change to the handler's map after the save reached the store: %v", got["a"])
		}
		got["a"] = 3.0 // a loaded map, in a request that does not save
		got["new"] = true
		if l, _ := s.Get("list").([]any); len(l) == 1 {
			l[0] = "mutated"
		}
	})
	e.req(c1, func(s *session.Session) {
		got, _ := s.Get("m").(map[string]any)
		if !reflect.DeepEqual(got, map[string]any{"a": 1.0}) {
			t.Errorf("T-CC4: mutating a loaded map without a save changed the store: %v", got)
		}
		if l, _ := s.Get("list").([]any); len(l) != 1 || l[0] != "x" {
			t.Errorf("T-CC4: mutating a loaded slice changed the store: %v", l)
		}
	})
}

func readsRemixRecord(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	id := "6ddda97e-5d4b-4a5e-9b7e-0123456789ab" // a Remix UUID
	e.saw(id)
	c.Put(t, e.st, id, []byte(`[{"count":1,"user":{"name":"ann"}},{"message":"hi"}]`))
	c1, set := e.req(id, func(s *session.Session) {
		if s.ID() != id {
			t.Fatalf("id %q, want the stored Remix id", s.ID())
		}
		if n, ok := session.Value[int](s, "count"); !ok || n != 1 {
			t.Errorf("count = %v", s.Get("count"))
		}
		if s.Get("message") != "hi" || !s.State().Dirty {
			t.Errorf("flash %v, Dirty %v", s.Get("message"), s.State().Dirty)
		}
	})
	if !set || c1 != id {
		t.Errorf("save = (%q, %v), want the id: the consumed flash must be written", c1, set)
	}
	e.req(c1, func(s *session.Session) {
		if s.Has("message") || s.Get("count") != 1.0 {
			t.Errorf("after consuming: message %v, count %v", s.Get("message"), s.Get("count"))
		}
	})
	// A two-element record with null or missing parts.
	for _, rec := range []string{`[{"a":1}]`, `[{"a":1},null]`, `[{"a":1},{},{"c":0}]`, `[{"a":1},{},{"x":"future"},"extra"]`} {
		c.Put(t, e.st, "remix-id", []byte(rec))
		e.saw("remix-id")
		if s := e.read("remix-id"); s.ID() != "remix-id" || s.Get("a") != 1.0 {
			t.Errorf("record %s: id %q, a %v", rec, s.ID(), s.Get("a"))
		}
	}
}

func writesRemixRecord(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	start := e.clock.Now()
	c1, _ := e.req("", func(s *session.Session) {
		s.Set("count", 1)
		s.Flash("msg", "hi")
	})
	rec, ok := c.Get(t, e.st, c1)
	if !ok {
		t.Fatal("no record")
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(rec, &arr); err != nil || len(arr) < 2 {
		t.Fatalf("record %s is not a JSON array [values, flash, ...]: %v", rec, err)
	}
	var d session.Data
	if err := json.Unmarshal(rec, &d); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Values, map[string]any{"count": 1.0}) || !reflect.DeepEqual(d.Flash, map[string]any{"msg": "hi"}) {
		t.Errorf("record %s: values %v, flash %v", rec, d.Values, d.Flash)
	}
	if len(arr) >= 3 {
		var m struct {
			C int64 `json:"c"`
			S int64 `json:"s"`
		}
		if err := json.Unmarshal(arr[2], &m); err != nil {
			t.Fatalf("metadata %s: %v", arr[2], err)
		}
		if m.C != start.UnixMilli() || m.S != start.UnixMilli() {
			t.Errorf("metadata %s, want c and s = %d (the fake clock)", arr[2], start.UnixMilli())
		}
	}
}

func corruptRecord(t *testing.T, c Config) {
	for _, rec := range []string{`{not json`, `{"a":1}`, `"str"`, `[1,2]`, `null`, ``, `[{"a":1},{},{}]x`} {
		e := newEnv(t, c, nil)
		id := "corrupt-record-id"
		e.saw(id)
		c.Put(t, e.st, id, []byte(rec))
		s, err := e.st.Read(context.Background(), id)
		if err != nil {
			t.Errorf("record %q: Read error %v, want a new session (T-FAIL4)", rec, err)
			continue
		}
		e.saw(s.ID())
		if s.ID() == id || s.Len() != 0 {
			t.Errorf("record %q: id %q, Len %d: want a new, empty session", rec, s.ID(), s.Len())
		}
		if rec == "" && e.logs.Warnings() == 0 {
			// A backend may hold no empty value (memcache storage reads
			// one as a deletion's tombstone): absent, nothing to log.
			continue
		}
		if e.logs.Warnings() != 1 {
			t.Errorf("record %q: %d warnings logged, want 1:\n%s", rec, e.logs.Warnings(), e.logs)
		}
		if !e.logs.Contains("id-sha256:") {
			t.Errorf("record %q: the warning does not name the session by its hash:\n%s", rec, e.logs)
		}
	}
}

func lifetimeAbsolute(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.Lifetime = time.Hour })
	c1, _ := e.countReq("", nil)
	e.clock.Advance(20 * time.Minute)
	c2, n := e.countReq(c1, nil)
	if n != 2 {
		t.Fatalf("count %d, want 2", n)
	}
	e.clock.Advance(20 * time.Minute)
	c3, n := e.countReq(c2, nil)
	if n != 3 {
		t.Fatalf("count %d, want 3", n)
	}
	e.clock.Advance(20*time.Minute + time.Second)
	// T-EXP2: an hour after creation, however active.
	if _, n := e.countReq(c3, nil); n != 1 {
		t.Errorf("after the lifetime: count %d, want 1 (a new session)", n)
	}
}

func lifetimeAcrossRegenerate(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.Lifetime = time.Hour })
	c1, _ := e.countReq("", nil)
	e.clock.Advance(40 * time.Minute)
	c2, n := e.countReq(c1, func(s *session.Session) { s.RegenerateID(true) })
	if n != 2 {
		t.Fatalf("count %d, want 2", n)
	}
	e.clock.Advance(10 * time.Minute)
	c3, n := e.countReq(c2, func(s *session.Session) { s.RegenerateID(false) })
	if n != 3 {
		t.Fatalf("count %d, want 3", n)
	}
	e.clock.Advance(10*time.Minute + time.Second)
	if _, n := e.countReq(c3, nil); n != 1 {
		t.Errorf("an hour after creation, regenerated twice: count %d, want 1 (the lifetime must survive regeneration)", n)
	}
}

func lifetimeAfterDestroy(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.Lifetime = time.Hour })
	c1, _ := e.countReq("", nil)
	e.clock.Advance(50 * time.Minute)
	c2, set := e.req(c1, func(s *session.Session) {
		s.Destroy()
		s.Set("fresh", true)
	})
	if !set || c2 == "" {
		t.Fatal("no new cookie")
	}
	e.clock.Advance(30 * time.Minute) // 80 min after the first, 30 after the new session
	e.req(c2, func(s *session.Session) {
		if s.Get("fresh") != true {
			t.Error("the session started after Destroy inherited the destroyed one's creation time")
		}
	})
	e.clock.Advance(31 * time.Minute)
	e.req(c2, func(s *session.Session) {
		if s.Has("fresh") {
			t.Error("the new session outlived its own lifetime")
		}
	})
}

// A value as large as the whole default limit must not reach the store:
// Save fails with ErrTooLarge naming the limit (DefaultMaxRecordSize),
// nothing is written.
func recordTooLarge(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, _ := e.countReq("", nil)
	var before []byte
	if c.Get != nil {
		before, _ = c.Get(t, e.st, c1)
	}
	s := e.read(c1)
	s.Set("blob", strings.Repeat("x", session.DefaultMaxRecordSize))
	_, set, err := e.st.Save(context.Background(), s)
	if !errors.Is(err, session.ErrTooLarge) || set {
		t.Fatalf("Save of a session over the default limit = (set %v, %v), want an error wrapping ErrTooLarge", set, err)
	}
	if limit := strconv.Itoa(session.DefaultMaxRecordSize); !strings.Contains(err.Error(), limit) {
		t.Errorf("the error does not name the %s-byte limit: %v", limit, err)
	}
	if c.Get != nil {
		if after, ok := c.Get(t, e.st, c1); !ok || string(after) != string(before) {
			t.Errorf("the stored record changed: %.80q, was %.80q", after, before)
		}
	}
	if _, n := e.countReq(c1, func(s *session.Session) {
		if s.Has("blob") {
			t.Error("the oversized value was stored")
		}
	}); n != 2 {
		t.Errorf("after the failed save: count %d, want 2 (the stored session intact)", n)
	}
}

// The zero Options must not mean "never expires": a cookie captured once
// would stay valid forever.
func lifetimeDefault(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, _ := e.countReq("", nil)
	e.clock.Advance(session.DefaultLifetime - time.Hour)
	c2, n := e.countReq(c1, nil)
	if n != 2 {
		t.Fatalf("an hour before the default lifetime ends: count %d, want 2", n)
	}
	e.clock.Advance(time.Hour)
	if _, n := e.countReq(c2, nil); n != 1 {
		t.Errorf("%v after creation with zero Options: count %d, want 1 (a new session)", session.DefaultLifetime, n)
	}
}

func lifetimeNone(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.Lifetime = -1 })
	c1, _ := e.countReq("", nil)
	e.clock.Advance(10 * 365 * 24 * time.Hour)
	if _, n := e.countReq(c1, nil); n != 2 {
		t.Errorf("ten years later with a negative Lifetime: count %d, want 2", n)
	}
}

func idleExpires(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.IdleTimeout = 10 * time.Minute })
	c1, _ := e.countReq("", nil)
	e.clock.Advance(9 * time.Minute)
	c2, n := e.countReq(c1, nil)
	if n != 2 {
		t.Fatalf("within the idle timeout: count %d, want 2", n)
	}
	e.clock.Advance(10*time.Minute + time.Second)
	// T-EXP1: idle longer than IdleTimeout.
	if _, n := e.countReq(c2, nil); n != 1 {
		t.Errorf("after the idle timeout: count %d, want 1", n)
	}
}

func idleSlides(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.IdleTimeout = 10 * time.Minute })
	cookie, _ := e.countReq("", nil)
	for i := 0; i < 4; i++ {
		e.clock.Advance(6 * time.Minute)
		var set bool
		cookie, set = e.req(cookie, func(s *session.Session) {
			if n, _ := session.Value[int](s, "count"); n != 1 {
				t.Fatalf("after %d read-only requests 6 min apart: count %v, want 1", i, s.Get("count"))
			}
		})
		if set != !c.ServerSide {
			t.Errorf("refresh: Set-Cookie %v, want %v (server-side storages refresh without a cookie; cookie storage must re-issue it)", set, !c.ServerSide)
		}
	}
	e.clock.Advance(10*time.Minute + time.Second)
	e.req(cookie, func(s *session.Session) {
		if s.Has("count") {
			t.Error("the session outlived its idle timeout after the last refresh")
		}
	})
}

func idleThrottled(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.IdleTimeout = 10 * time.Minute })
	c1, _ := e.countReq("", nil)
	// Within a tenth of the idle timeout: no refresh, so no Set-Cookie and
	// the deadline stays 10 min after the save.
	e.clock.Advance(30 * time.Second)
	if _, set := e.req(c1, nil); set {
		t.Error("a request 30 s after the save (under a tenth of the idle timeout) sent a Set-Cookie")
	}
	e.clock.Advance(9*time.Minute + 45*time.Second)
	e.req(c1, func(s *session.Session) {
		if s.Has("count") {
			t.Error("a request within the first tenth of the idle timeout extended it")
		}
	})

	// Past a tenth: refreshed.
	c2, _ := e.countReq("", nil)
	e.clock.Advance(time.Minute)
	c2, _ = e.req(c2, nil)
	e.clock.Advance(9*time.Minute + 30*time.Second)
	e.req(c2, func(s *session.Session) {
		if !s.Has("count") {
			t.Error("a request a tenth of the idle timeout after the save did not extend it")
		}
	})
}

func concurrentRequests(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.IdleTimeout = time.Hour })
	c1, _ := e.req("", func(s *session.Session) { s.Set("shared", "yes") })
	const n = 50
	var wg sync.WaitGroup
	cookies := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			s, err := e.st.Read(ctx, c1)
			if err != nil {
				t.Errorf("Read: %v", err)
				return
			}
			if s.Get("shared") != "yes" {
				t.Errorf("concurrent read lost the data: %v", s.Data())
			}
			switch i % 3 {
			case 0:
				s.Set("writer", i)
			case 1:
				s.Flash("f", i)
			}
			v, set, err := e.st.Save(ctx, s)
			if err != nil {
				t.Errorf("Save: %v", err)
				return
			}
			if set {
				cookies[i] = v
			}
		}()
	}
	wg.Wait()
	e.saw(cookies...)
	for i, v := range cookies {
		// (A reader may get a cookie too: it consumed another's flash.)
		if i%3 != 2 && v == "" {
			t.Errorf("goroutine %d changed the session but got no cookie", i)
		}
	}
	// Last writer wins: any one of the writers' states, never a torn one.
	final := c1
	if !c.ServerSide {
		final = cookies[0]
	}
	e.req(final, func(s *session.Session) {
		if s.Get("shared") != "yes" {
			t.Errorf("after concurrent saves: %v", s.Data())
		}
	})
}

func concurrentSessionObject(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, _ := e.req("", func(s *session.Session) { s.Set("a", 1) })
	s := e.read(c1)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := string(rune('a' + i%5))
			s.Set(key, i)
			_ = s.Get(key)
			_ = s.Has(key)
			_ = s.Len()
			_ = s.Data()
			_ = s.State().Dirty
			_ = s.ID()
			if i%7 == 0 {
				s.Flash("f", i)
			}
			if i%5 == 0 {
				if _, _, err := e.st.Save(context.Background(), s); err != nil {
					t.Errorf("Save: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	v, _ := e.save(s)
	if v == "" {
		v = c1
	}
	e.req(v, func(s *session.Session) {
		if !s.Has("a") {
			t.Errorf("lost data: %v", s.Data())
		}
	})
}

// noResurrectAfterDestroy: A loads, B destroys (logout), A saves: a change,
// a session dirty only because it loaded flash, or an unchanged session due
// for a sliding refresh. The logout wins: A sends no cookie, its changes are
// dropped with a warning (not reported later as lost), and the record stays
// deleted.
func noResurrectAfterDestroy(t *testing.T, c Config) {
	for _, change := range []struct {
		name  string
		setup func(*session.Session)
		apply func(*session.Session)
		warn  bool
	}{
		{"changed", func(s *session.Session) { s.Set("user", "alice") }, func(s *session.Session) { s.Set("cart", 1) }, true},
		{"flash consumed", func(s *session.Session) { s.Set("user", "alice"); s.Flash("msg", "hi") }, nil, true},
		{"unchanged, refreshed", func(s *session.Session) { s.Set("user", "alice") }, nil, false},
	} {
		t.Run(change.name, func(t *testing.T) {
			e := newEnv(t, c, func(o *session.Options) { o.IdleTimeout = time.Hour })
			id, _ := e.req("", change.setup)
			e.clock.Advance(10 * time.Minute) // past a tenth of the idle timeout
			a := e.read(id)
			if a.ID() != id {
				t.Fatalf("the session did not load")
			}
			e.req(id, func(s *session.Session) { s.Destroy() })
			if change.apply != nil {
				change.apply(a)
			}
			warnings := e.logs.Warnings()
			if v, set := e.save(a); set || v != "" {
				t.Errorf("A's save after the logout = (%q, %v), want (\"\", false): no cookie", v, set)
			}
			if a.State().Dirty {
				t.Error("A is still dirty after its changes were dropped (the middleware would report them as late)")
			}
			if change.warn && e.logs.Warnings() == warnings {
				t.Errorf("dropping A's changes was not logged: %s", e.logs)
			}
			if s := e.read(id); s.ID() == id || s.Has("user") {
				t.Errorf("the destroyed session came back: %v", s.Data())
			}
		})
	}
}

// noResurrectAfterRegenerate: A loads, B logs in with RegenerateID(true), A
// saves a change. The pre-login id stays dead; the new id keeps B's data.
func noResurrectAfterRegenerate(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	old, _ := e.req("", func(s *session.Session) { s.Set("n", 1) })
	a := e.read(old)
	newID, _ := e.req(old, func(s *session.Session) { s.RegenerateID(true); s.Set("user", "alice") })
	a.Set("n", 2)
	if v, set := e.save(a); set || v != "" {
		t.Errorf("A's save after the login = (%q, %v), want (\"\", false)", v, set)
	}
	if s := e.read(old); s.ID() == old {
		t.Errorf("the pre-login id was written back: %v", s.Data())
	}
	if s := e.read(newID); s.Get("user") != "alice" || s.Get("n") != 1.0 {
		t.Errorf("the logged-in session: %v", s.Data())
	}
}
