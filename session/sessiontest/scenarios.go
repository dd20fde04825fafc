package sessiontest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	c1 := e.mustCount("first request", "", 1)
	c2 := e.mustCount("second request", c1, 2)
	e.mustCount("third request", c2, 3)
	if c.ServerSide {
		equal(t, "the id of the second request", c2, c1)
	}
}

func clearsOnDestroy(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, _ := e.countReq("", nil)
	c2 := e.mustCount("second request", c1, 2)
	s := e.read(c2)
	destroyedID := s.ID()
	s.Destroy()
	require(t, s.State().Destroyed, "State().Destroyed is false after Destroy")
	v, set := e.save(s)
	mustEqual(t, "Save of a destroyed session (expiring the cookie)", saved(v, set), expired)
	// The browser drops the cookie: the next request starts afresh.
	e.countIs("after destroy", v, 1)
	if c.ServerSide {
		// T-RPL1: a replayed cookie of the destroyed session loads nothing.
		s := e.read(c2)
		check(t, s.ID() != destroyedID, "the destroyed id %q was loaded again", destroyedID)
		check(t, !s.Has("count"), "the destroyed session's data came back: count=%v", s.Get("count"))
		e.wantRecords("records in the store (the new session only)", 1)
		e.wantNoRecord(destroyedID, "the destroyed session's record is still stored")
	}
}

func noCookieWhenUnchanged(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	s := e.read("")
	check(t, !s.State().Dirty, "a new session is dirty")
	equal(t, "a new session's Len", s.Len(), 0)
	check(t, !s.State().Destroyed, "a new session is destroyed")
	equal(t, "Save of an unchanged new session", saved(e.save(s)), unsent)
	// T-MEM1: a storm of anonymous requests that only read stores nothing.
	for range 100 {
		_, set := e.req("", func(s *session.Session) { _ = s.Get("user") })
		require(t, !set, "an anonymous read-only request sent a Set-Cookie")
	}
	e.wantRecords("T-MEM1: records stored after read-only anonymous requests", 0)
	// A stored session that is only read sends no cookie either.
	c1, _ := e.countReq("", nil)
	_, set := e.req(c1, func(s *session.Session) { _ = s.Get("count") })
	check(t, !set, "a read-only request on a stored session sent a Set-Cookie")
}

func flashNextRequestOnly(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, set := e.req("", func(s *session.Session) {
		equal(t, "index: message", s.Get("message"), nil)
	})
	check(t, !set, "the index request sent a Set-Cookie")
	c2, set := e.req(c1, func(s *session.Session) {
		s.Flash("message", "success!")
		equal(t, "the message in the request that flashed it", s.Get("message"), nil)
		check(t, !s.Has("message"), "Has(message) in the request that flashed it")
	})
	require(t, set, "the flash request sent no Set-Cookie")
	c3, set := e.req(c2, func(s *session.Session) {
		check(t, s.State().Dirty, "a session loaded with flash is not dirty")
		equal(t, "next request: message", s.Get("message"), "success!")
		check(t, s.Has("message"), "next request: Has(message) is false")
		equal(t, "next request: Len", s.Len(), 1)
	})
	check(t, set, "the request that consumed the flash sent no Set-Cookie (the flash must be cleared)")
	_, set = e.req(c3, func(s *session.Session) {
		equal(t, "second request after the flash: message", s.Get("message"), nil)
		check(t, !s.State().Dirty, "the session is dirty after the flash was consumed")
	})
	check(t, !set, "a request after the flash was consumed sent a Set-Cookie")
	// Consumed even when nobody read it.
	c4, _ := e.req(c3, func(s *session.Session) { s.Flash("unread", true) })
	c5, _ := e.req(c4, nil)
	e.req(c5, func(s *session.Session) {
		check(t, !s.Has("unread"), "an unread flash survived two requests")
	})
}

func regenerateKeepsOld(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	cA, _ := e.countReq("", nil)
	idA := e.read(cA).ID()
	cB, _ := e.req(cA, func(s *session.Session) {
		s.RegenerateID(false)
		check(t, s.ID() != idA, "RegenerateID kept the id")
		equal(t, "State().ReplacedID after RegenerateID(false)", s.State().ReplacedID, "")
	})
	require(t, cB != cA, "the cookie did not change after RegenerateID")
	e.countIs("new id", cB, 2)
	e.countIs("old id, whose record was left in place", cA, 2)
}

func regenerateDeletesOld(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	cA, _ := e.countReq("", nil)
	cB, _ := e.req(cA, func(s *session.Session) {
		s.RegenerateID(true)
		check(t, s.ID() != cA, "RegenerateID kept the id")
		equal(t, "State().ReplacedID (the original id)", s.State().ReplacedID, cA)
	})
	e.countIs("new id", cB, 2)
	s := e.read(cA)
	check(t, s.ID() != cA && !s.Has("count"), "T-RG1: the old id still loads (id %q, count %v)", s.ID(), s.Get("count"))
	e.wantNoRecord(cA, "the old record is still stored")
	e.wantRecords("records stored", 1)
}

func regenerateNotes(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	regenerate := func(s *session.Session) { s.RegenerateID(true) }
	c1 := e.mustCount("first request", "", 1)
	c2, n := e.countReq(c1, regenerate)
	mustEqual(t, "regenerating request: count", n, 2)
	// Remix warns on every such save; a cookie that cannot be ended is how
	// client-side storage works, not a fault, so it is one Info line.
	w, notes := e.logs.Warnings(), strings.Count(e.logs.String(), "RegenerateID(true)")
	check(t, w == 0 && notes == 1, "%d warnings and %d notes logged, want 0 and 1:\n%s", w, notes, e.logs)
	c3, n := e.countReq(c2, regenerate)
	equal(t, "second regenerating request: count", n, 3)
	e.countIs("request after the regenerations", c3, 4)
	notes = strings.Count(e.logs.String(), "RegenerateID(true)")
	check(t, notes == 1, "%d notes after later regenerations, want still 1:\n%s", notes, e.logs)
}

func unknownIDsRefused(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	for _, id := range []string{"unknown", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "6ddda97e-5d4b-4a5e-9b7e-0123456789ab"} {
		refusesUnknownID(e, id)
	}
	e.wantRecords("records", 3)
}

// refusesUnknownID: reading the unknown id gives a new, clean session,
// which is written when changed, under its new id only.
func refusesUnknownID(e *env, id string) {
	t := e.t
	s := e.read(id)
	check(t, s.ID() != id, "read(%q) adopted the unknown id", id)
	wantNew(t, fmt.Sprintf("read(%q)", id), s)
	v, set := e.save(s)
	check(t, !set, "saving the clean new session of read(%q) set the cookie to %q", id, v)
	s = e.read(id)
	s.Set("x", 1)
	v, set = e.save(s)
	check(t, v != id, "the changed session was saved under the unknown id %q", id)
	equal(t, "Save of the changed session (its new id)", saved(v, set), saved(s.ID(), true))
	e.wantNoRecord(id, fmt.Sprintf("T-FX1: a record was created for the unknown id %q", id))
}

// wantNew checks that s, which read gave, is a new session: a valid id,
// no data, nothing to save.
func wantNew(t testing.TB, read string, s *session.Session) {
	t.Helper()
	check(t, session.ValidID(s.ID()), "%s: the new session's id %.30q is not valid", read, s.ID())
	equal(t, read+": Len", s.Len(), 0)
	check(t, !s.State().Dirty, "%s: the new session is dirty", read)
}

func unknownIDsAdopted(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.UseUnknownIDs = true })
	s := e.read("unknown")
	mustEqual(t, "read(unknown).ID()", s.ID(), "unknown")
	check(t, !s.State().Dirty, "the adopted session is dirty")
	equal(t, "the adopted session's Len", s.Len(), 0)
	_, set := e.save(s)
	check(t, !set, "saving the clean adopted session set a cookie")
	e.wantRecords("T-FX1: records after reading an unknown id", 0)
	c1, n := e.countReq("unknown", nil)
	equal(t, "request with the adopted id: cookie", c1, "unknown")
	equal(t, "request with the adopted id: count", n, 1)
	e.countIs("second request with the adopted id", "unknown", 2)
	// "" and malformed ids are never adopted.
	for _, bad := range []string{"", "../x", "a b", strings.Repeat("a", 129)} {
		s := e.read(bad)
		check(t, s.ID() != bad && session.ValidID(s.ID()), "read(%.20q) gave id %.20q", bad, s.ID())
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
		check(t, !s.State().Destroyed, "State().Destroyed is true after Flash started a new session")
		check(t, newID != old, "Flash after Destroy kept the destroyed id")
		check(t, !s.Has("user") && !s.Has("message"), "the new session sees old data or this request's flash")
	})
	require(t, set && c2 != "" && c2 != c1, "save = (%.40q, %v), want a new cookie", c2, set)
	e.req(c2, func(s *session.Session) {
		equal(t, "message", s.Get("message"), "you have been signed out")
		check(t, !s.Has("user"), "user survived the logout")
		equal(t, "id", s.ID(), newID)
	})
	if c.ServerSide {
		s := e.read(c1)
		check(t, s.ID() != c1 && !s.Has("user"), "the destroyed session still loads")
	}
}

func destroyThenSet(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, _ := e.req("", func(s *session.Session) { s.Set("user", "alice") })
	c2, set := e.req(c1, func(s *session.Session) {
		s.Destroy()
		s.Set("theme", "dark")
		check(t, !s.State().Destroyed, "after Destroy+Set: the session is destroyed")
		equal(t, "after Destroy+Set: Len", s.Len(), 1)
		check(t, !s.Has("user"), "after Destroy+Set: the session has the old user")
	})
	require(t, set && c2 != "", "save = (%.40q, %v), want a new cookie", c2, set)
	e.req(c2, func(s *session.Session) {
		equal(t, "new session: theme", s.Get("theme"), "dark")
		check(t, !s.Has("user"), "new session: the destroyed session's user %v is back", s.Get("user"))
	})
	if c.ServerSide {
		check(t, c2 != c1, "Set after Destroy kept the destroyed id")
		check(t, !e.read(c1).Has("user"), "the destroyed record was not deleted")
		e.wantRecords("records", 1)
	}
}

func regenerateTwice(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	cA, _ := e.countReq("", nil)
	cC, _ := e.req(cA, func(s *session.Session) {
		s.RegenerateID(true)
		s.RegenerateID(true)
		equal(t, "State().ReplacedID (the original)", s.State().ReplacedID, cA)
		s.RegenerateID(false)
		equal(t, "State().ReplacedID after RegenerateID(false) (the original)", s.State().ReplacedID, cA)
	})
	check(t, !e.read(cA).Has("count"), "T-RG3: the original record survived two regenerations")
	e.countIs("final id", cC, 2)
	e.wantRecords("records", 1)
}

func destroyAfterRegenerate(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	cA, _ := e.countReq("", nil)
	v, set := e.req(cA, func(s *session.Session) {
		s.RegenerateID(false)
		s.Destroy()
	})
	mustEqual(t, "Save of the regenerated, destroyed session", saved(v, set), expired)
	check(t, !e.read(cA).Has("count"), "the original record survived RegenerateID(false) then Destroy")
	e.wantRecords("records", 0)
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
		holds(t, "T-RG2: after RegenerateID, the session", s, map[string]any{"user": "alice", "note": "hi"})
	})
	e.req(c2, func(s *session.Session) {
		equal(t, "after regeneration: user", s.Get("user"), "alice")
		equal(t, "after regeneration: next", s.Get("next"), "x")
		check(t, !s.Has("note"), "after regeneration: the consumed flash note is still there: %v", s.Get("note"))
	})
}

func destroyNew(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	s := e.read("")
	s.Destroy()
	equal(t, "Save of a destroyed new session", saved(e.save(s)), expired)
	s = e.read("")
	s.Destroy()
	s.Destroy() // twice is fine
	s.Unset("a")
	s.Set("a", nil)
	s.RegenerateID(true)
	check(t, s.State().Destroyed && s.Get("a") == nil && s.Len() == 0, "Unset/Set(nil)/RegenerateID changed a destroyed session")
	equal(t, "Save of the destroyed session after the calls", saved(e.save(s)), expired)
	e.wantRecords("records", 0)
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
			refusesMalformedID(e, bad, unknown)
		}
		e.wantRecords("records after malformed reads", 0)
	}
}

// refusesMalformedID: reading the malformed cookie value bad gives a new,
// clean session, whatever UseUnknownIDs says.
func refusesMalformedID(e *env, bad string, unknown bool) {
	t := e.t
	s := e.read(bad)
	check(t, s.ID() != bad && len(s.ID()) == 43, "read(%.30q) (UseUnknownIDs %v): id %.30q, want a new 43-character id", bad, unknown, s.ID())
	wantNew(t, fmt.Sprintf("read(%.30q)", bad), s)
	_, set := e.save(s)
	check(t, !set, "read(%.30q): the clean session set a cookie", bad)
}

// point is a struct value of valuesRoundTrip.
type point struct {
	X int    `json:"x"`
	Y string `json:"y"`
}

// roundTripValues are the values valuesRoundTrip sets, and what Get
// returns for each once loaded: JSON's types.
func roundTripValues() (in, want map[string]any) {
	in = map[string]any{
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
	want = map[string]any{
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
	return in, want
}

func valuesRoundTrip(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	in, want := roundTripValues()
	c1, _ := e.req("", func(s *session.Session) {
		for k, v := range in {
			s.Set(k, v)
		}
		s.Flash("flash", map[string]any{"n": 1, "s": []any{"ü"}})
	})
	e.req(c1, func(s *session.Session) {
		for k, w := range want {
			deepEqual(t, fmt.Sprintf("Get(%q)", k), s.Get(k), w)
		}
		deepEqual(t, "flash", s.Get("flash"), map[string]any{"n": 1.0, "s": []any{"ü"}})
		wantValue(t, s, "int", 42)
		wantValue(t, s, "big", int64(1<<53))
		_, ok := session.Value[int](s, "float")
		check(t, !ok, "Value[int](3.5) succeeded")
		wantValue(t, s, "struct", point{7, "q"})
		ss, ok := session.Value[[]string](s, "strings")
		check(t, ok && reflect.DeepEqual(ss, []string{"x", "y"}), "Value[[]string] = %v, %v", ss, ok)
		wantValue(t, s, "false", false)
		equal(t, "Len", s.Len(), len(want)+1)
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
	require(t, set, "removing keys sent no Set-Cookie")
	e.req(c2, func(s *session.Session) {
		check(t, !s.Has("a") && !s.Has("b"), "after removal: a %v, b %v; want neither", s.Get("a"), s.Get("b"))
		equal(t, "after removal: c", s.Get("c"), 3.0)
		equal(t, "after removal: Len", s.Len(), 1)
	})
}

func unchangedNotWritten(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, _ := e.req("", func(s *session.Session) { s.Set("user", "alice") })
	var before []byte
	if c.Get != nil {
		var ok bool
		before, ok = c.Get(t, e.st, c1)
		require(t, ok, "no record stored under the returned id")
	}
	for range 5 {
		e.clock.Advance(time.Second)
		_, set := e.req(c1, func(s *session.Session) {
			_ = s.Get("user")
			_ = s.Has("x")
			_ = s.Len()
			_ = s.Data()
		})
		require(t, !set, "a read-only request sent a Set-Cookie")
	}
	if c.Get != nil {
		after, _ := c.Get(t, e.st, c1)
		check(t, string(after) == string(before), "the record was rewritten by read-only requests:\n%s\n%s", before, after)
	}
}

func cleanAfterSave(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	s := e.read("")
	s.Set("a", 1)
	require(t, s.State().Dirty, "not dirty after Set")
	v, set := e.save(s)
	require(t, set && v != "", "save = (%.40q, %v), want a cookie", v, set)
	if c.ServerSide {
		equal(t, "server-side cookie value (the id)", v, s.ID())
	}
	check(t, !s.State().Dirty, "dirty after a successful save")
	// A second save of the unchanged session writes nothing.
	v2, set := e.save(s)
	check(t, !set, "second save set the cookie to %.40q", v2)
	s.Set("b", 2) // a change after the save is visible to the middleware
	check(t, s.State().Dirty, "not dirty after a change made after the save")
	v3, set := e.save(s)
	require(t, set, "saving the change sent no cookie")
	e.req(v3, func(s *session.Session) {
		equal(t, "a", s.Get("a"), 1.0)
		equal(t, "b", s.Get("b"), 2.0)
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
	obj := e.read(c1)
	obj.Set("touched", 1)
	c1, _ = e.save(obj)
	obj.Set("later", 1)
	s := e.read(c1)
	check(t, !s.Has("later"), "a change to a session object after its save reached the store: %v", s.Data())
	e.req(c1, func(s *session.Session) {
		got, _ := s.Get("m").(map[string]any)
		equal(t, `m["a"] after the handler changed its map after the save`, got["a"], 1.0)
		got["a"] = 3.0 // a loaded map, in a request that does not save
		got["new"] = true
		if l, _ := s.Get("list").([]any); len(l) == 1 {
			l[0] = "mutated"
		}
	})
	e.req(c1, func(s *session.Session) {
		deepEqual(t, "T-CC4: m after a request that did not save mutated the map it loaded", s.Get("m"), map[string]any{"a": 1.0})
		l, _ := s.Get("list").([]any)
		deepEqual(t, "T-CC4: list after a request that did not save mutated the slice it loaded", l, []any{"x"})
	})
}

func readsRemixRecord(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	id := "6ddda97e-5d4b-4a5e-9b7e-0123456789ab" // a Remix UUID
	e.saw(id)
	c.Put(t, e.st, id, []byte(`[{"count":1,"user":{"name":"ann"}},{"message":"hi"}]`))
	c1, set := e.req(id, func(s *session.Session) {
		mustEqual(t, "id (the stored Remix id)", s.ID(), id)
		wantValue(t, s, "count", 1)
		equal(t, "flash message", s.Get("message"), "hi")
		check(t, s.State().Dirty, "a session loaded with flash is not dirty")
	})
	equal(t, "save (the id: the consumed flash must be written)", saved(c1, set), saved(id, true))
	e.req(c1, func(s *session.Session) {
		check(t, !s.Has("message"), "after consuming: the flash message %v is still there", s.Get("message"))
		equal(t, "after consuming: count", s.Get("count"), 1.0)
	})
	// A two-element record with null or missing parts.
	for _, rec := range []string{`[{"a":1}]`, `[{"a":1},null]`, `[{"a":1},{},{"c":0}]`, `[{"a":1},{},{"x":"future"},"extra"]`} {
		c.Put(t, e.st, "remix-id", []byte(rec))
		e.saw("remix-id")
		s := e.read("remix-id")
		check(t, s.ID() == "remix-id" && s.Get("a") == 1.0, "record %s: id %q, a %v; want remix-id, 1", rec, s.ID(), s.Get("a"))
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
	require(t, ok, "no record")
	var arr []json.RawMessage
	err := json.Unmarshal(rec, &arr)
	require(t, err == nil && len(arr) >= 2, "record %s is not a JSON array [values, flash, ...]: %v", rec, err)
	var d session.Data
	must(t, "decoding the record as session.Data", json.Unmarshal(rec, &d))
	deepEqual(t, fmt.Sprintf("record %s: values", rec), d.Values, map[string]any{"count": 1.0})
	deepEqual(t, fmt.Sprintf("record %s: flash", rec), d.Flash, map[string]any{"msg": "hi"})
	if len(arr) >= 3 {
		wantMetadata(t, arr[2], start)
	}
}

// wantMetadata checks a record's metadata, its optional third element:
// created and saved at the time at (the fake clock's).
func wantMetadata(t testing.TB, meta json.RawMessage, at time.Time) {
	t.Helper()
	var m struct {
		C int64 `json:"c"`
		S int64 `json:"s"`
	}
	must(t, fmt.Sprintf("metadata %s", meta), json.Unmarshal(meta, &m))
	ms := at.UnixMilli()
	check(t, m.C == ms && m.S == ms, "metadata %s, want c and s = %d (the fake clock)", meta, ms)
}

func corruptRecord(t *testing.T, c Config) {
	for _, rec := range []string{`{not json`, `{"a":1}`, `"str"`, `[1,2]`, `null`, ``, `[{"a":1},{},{}]x`} {
		ignoresCorruptRecord(t, c, rec)
	}
}

// ignoresCorruptRecord: reading the id whose record is rec gives a new,
// empty session, and one warning that names the session by its hash.
func ignoresCorruptRecord(t *testing.T, c Config, rec string) {
	e := newEnv(t, c, nil)
	id := "corrupt-record-id"
	e.saw(id)
	c.Put(t, e.st, id, []byte(rec))
	s, err := e.st.Read(context.Background(), id)
	if !check(t, err == nil, "record %q: Read error %v, want a new session (T-FAIL4)", rec, err) {
		return
	}
	e.saw(s.ID())
	check(t, s.ID() != id && s.Len() == 0, "record %q: id %q, Len %d: want a new, empty session", rec, s.ID(), s.Len())
	if rec == "" && e.logs.Warnings() == 0 {
		// A backend may hold no empty value (memcache storage reads
		// one as a deletion's tombstone): absent, nothing to log.
		return
	}
	check(t, e.logs.Warnings() == 1, "record %q: %d warnings logged, want 1:\n%s", rec, e.logs.Warnings(), e.logs)
	check(t, e.logs.Contains("id-sha256:"), "record %q: the warning does not name the session by its hash:\n%s", rec, e.logs)
}

func lifetimeAbsolute(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.Lifetime = time.Hour })
	c1, _ := e.countReq("", nil)
	e.clock.Advance(20 * time.Minute)
	c2 := e.mustCount("after 20 minutes", c1, 2)
	e.clock.Advance(20 * time.Minute)
	c3 := e.mustCount("after 40 minutes", c2, 3)
	e.clock.Advance(20*time.Minute + time.Second)
	// T-EXP2: an hour after creation, however active.
	e.countIs("after the lifetime (a new session)", c3, 1)
}

func lifetimeAcrossRegenerate(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.Lifetime = time.Hour })
	c1, _ := e.countReq("", nil)
	e.clock.Advance(40 * time.Minute)
	c2, n := e.countReq(c1, func(s *session.Session) { s.RegenerateID(true) })
	mustEqual(t, "RegenerateID(true) after 40 minutes: count", n, 2)
	e.clock.Advance(10 * time.Minute)
	c3, n := e.countReq(c2, func(s *session.Session) { s.RegenerateID(false) })
	mustEqual(t, "RegenerateID(false) after 50 minutes: count", n, 3)
	e.clock.Advance(10*time.Minute + time.Second)
	e.countIs("an hour after creation, regenerated twice (a new session: the lifetime must survive regeneration)", c3, 1)
}

func lifetimeAfterDestroy(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.Lifetime = time.Hour })
	c1, _ := e.countReq("", nil)
	e.clock.Advance(50 * time.Minute)
	c2, set := e.req(c1, func(s *session.Session) {
		s.Destroy()
		s.Set("fresh", true)
	})
	require(t, set && c2 != "", "no new cookie")
	e.clock.Advance(30 * time.Minute) // 80 min after the first, 30 after the new session
	e.req(c2, func(s *session.Session) {
		check(t, s.Get("fresh") == true, "the session started after Destroy inherited the destroyed one's creation time")
	})
	e.clock.Advance(31 * time.Minute)
	e.req(c2, func(s *session.Session) {
		check(t, !s.Has("fresh"), "the new session outlived its own lifetime")
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
	require(t, errors.Is(err, session.ErrTooLarge) && !set,
		"Save of a session over the default limit = (set %v, %v), want an error wrapping ErrTooLarge", set, err)
	limit := strconv.Itoa(session.DefaultMaxRecordSize)
	check(t, strings.Contains(err.Error(), limit), "the error does not name the %s-byte limit: %v", limit, err)
	if c.Get != nil {
		after, ok := c.Get(t, e.st, c1)
		check(t, ok && string(after) == string(before), "the stored record changed: %.80q, was %.80q", after, before)
	}
	_, n := e.countReq(c1, func(s *session.Session) {
		check(t, !s.Has("blob"), "the oversized value was stored")
	})
	equal(t, "after the failed save: count (the stored session intact)", n, 2)
}

// The zero Options must not mean "never expires": a cookie captured once
// would stay valid forever.
func lifetimeDefault(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, _ := e.countReq("", nil)
	e.clock.Advance(session.DefaultLifetime - time.Hour)
	c2 := e.mustCount("an hour before the default lifetime ends", c1, 2)
	e.clock.Advance(time.Hour)
	e.countIs(fmt.Sprintf("%v after creation with zero Options (a new session)", session.DefaultLifetime), c2, 1)
}

func lifetimeNone(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.Lifetime = -1 })
	c1, _ := e.countReq("", nil)
	e.clock.Advance(10 * 365 * 24 * time.Hour)
	e.countIs("ten years later with a negative Lifetime", c1, 2)
}

func idleExpires(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.IdleTimeout = 10 * time.Minute })
	c1, _ := e.countReq("", nil)
	e.clock.Advance(9 * time.Minute)
	c2 := e.mustCount("within the idle timeout", c1, 2)
	e.clock.Advance(10*time.Minute + time.Second)
	// T-EXP1: idle longer than IdleTimeout.
	e.countIs("after the idle timeout (a new session)", c2, 1)
}

func idleSlides(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.IdleTimeout = 10 * time.Minute })
	cookie, _ := e.countReq("", nil)
	for i := range 4 {
		e.clock.Advance(6 * time.Minute)
		var set bool
		cookie, set = e.req(cookie, func(s *session.Session) {
			n, _ := session.Value[int](s, "count")
			require(t, n == 1, "after %d read-only requests 6 min apart: count %v, want 1", i, s.Get("count"))
		})
		// Server-side storages refresh without a cookie; the cookie
		// storage must re-issue it.
		equal(t, "Set-Cookie on a sliding refresh", set, !c.ServerSide)
	}
	e.clock.Advance(10*time.Minute + time.Second)
	e.req(cookie, func(s *session.Session) {
		check(t, !s.Has("count"), "the session outlived its idle timeout after the last refresh")
	})
}

func idleThrottled(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.IdleTimeout = 10 * time.Minute })
	c1, _ := e.countReq("", nil)
	// Within a tenth of the idle timeout: no refresh, so no Set-Cookie and
	// the deadline stays 10 min after the save.
	e.clock.Advance(30 * time.Second)
	_, set := e.req(c1, nil)
	check(t, !set, "a request 30 s after the save (under a tenth of the idle timeout) sent a Set-Cookie")
	e.clock.Advance(9*time.Minute + 45*time.Second)
	e.req(c1, func(s *session.Session) {
		check(t, !s.Has("count"), "a request within the first tenth of the idle timeout extended it")
	})

	// Past a tenth: refreshed.
	c2, _ := e.countReq("", nil)
	e.clock.Advance(time.Minute)
	c2, _ = e.req(c2, nil)
	e.clock.Advance(9*time.Minute + 30*time.Second)
	e.req(c2, func(s *session.Session) {
		check(t, s.Has("count"), "a request a tenth of the idle timeout after the save did not extend it")
	})
}

func concurrentRequests(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.IdleTimeout = time.Hour })
	c1, _ := e.req("", func(s *session.Session) { s.Set("shared", "yes") })
	const n = 50
	var wg sync.WaitGroup
	cookies := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cookies[i] = concurrentRequest(e, c1, i)
		}()
	}
	wg.Wait()
	e.saw(cookies...)
	for i, v := range cookies {
		// (A reader may get a cookie too: it consumed another's flash.)
		check(t, i%3 == 2 || v != "", "goroutine %d changed the session but got no cookie", i)
	}
	// Last writer wins: any one of the writers' states, never a torn one.
	final := c1
	if !c.ServerSide {
		final = cookies[0]
	}
	e.req(final, func(s *session.Session) {
		check(t, s.Get("shared") == "yes", "after concurrent saves: %v", s.Data())
	})
}

// concurrentRequest is request i of concurrentRequests: it reads the
// session cookie names, sets a value, a flash or nothing, and saves. It
// returns the cookie the save set, or "".
func concurrentRequest(e *env, cookie string, i int) string {
	t, ctx := e.t, context.Background()
	s, err := e.st.Read(ctx, cookie)
	if !noError(t, "Read", err) {
		return ""
	}
	check(t, s.Get("shared") == "yes", "concurrent read lost the data: %v", s.Data())
	switch i % 3 {
	case 0:
		s.Set("writer", i)
	case 1:
		s.Flash("f", i)
	}
	v, set, err := e.st.Save(ctx, s)
	if !noError(t, "Save", err) || !set {
		return ""
	}
	return v
}

func concurrentSessionObject(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, _ := e.req("", func(s *session.Session) { s.Set("a", 1) })
	s := e.read(c1)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			useConcurrently(e, s, i)
		}()
	}
	wg.Wait()
	v, _ := e.save(s)
	if v == "" {
		v = c1
	}
	e.req(v, func(s *session.Session) {
		check(t, s.Has("a"), "lost data: %v", s.Data())
	})
}

// useConcurrently is goroutine i of concurrentSessionObject: it sets a key
// and calls every reading method of s, some goroutines flash or save too.
func useConcurrently(e *env, s *session.Session, i int) {
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
		_, _, err := e.st.Save(context.Background(), s)
		noError(e.t, "Save", err)
	}
}

// lateChange is what noResurrectAfterDestroy's request A brings to a save
// that comes after the logout: setup makes the session, apply changes A
// (nil: nothing), and warn says whether dropping it must be logged.
type lateChange struct {
	name         string
	setup, apply func(*session.Session)
	warn         bool
}

// noResurrectAfterDestroy: A loads, B destroys (logout), A saves: a change,
// a session dirty only because it loaded flash, or an unchanged session due
// for a sliding refresh. The logout wins: A sends no cookie, its changes are
// dropped with a warning (not reported later as lost), and the record stays
// deleted.
func noResurrectAfterDestroy(t *testing.T, c Config) {
	for _, change := range []lateChange{
		{"changed", func(s *session.Session) { s.Set("user", "alice") }, func(s *session.Session) { s.Set("cart", 1) }, true},
		{"flash consumed", func(s *session.Session) { s.Set("user", "alice"); s.Flash("msg", "hi") }, nil, true},
		{"unchanged, refreshed", func(s *session.Session) { s.Set("user", "alice") }, nil, false},
	} {
		t.Run(change.name, func(t *testing.T) { change.savedAfterLogout(t, c) })
	}
}

// savedAfterLogout plays noResurrectAfterDestroy with this change.
func (change lateChange) savedAfterLogout(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.IdleTimeout = time.Hour })
	id, _ := e.req("", change.setup)
	e.clock.Advance(10 * time.Minute) // past a tenth of the idle timeout
	a := e.read(id)
	require(t, a.ID() == id, "the session did not load")
	e.req(id, func(s *session.Session) { s.Destroy() })
	if change.apply != nil {
		change.apply(a)
	}
	warnings := e.logs.Warnings()
	equal(t, "A's save after the logout (no cookie)", saved(e.save(a)), unsent)
	check(t, !a.State().Dirty, "A is still dirty after its changes were dropped (the middleware would report them as late)")
	check(t, !change.warn || e.logs.Warnings() != warnings, "dropping A's changes was not logged: %s", e.logs)
	s := e.read(id)
	check(t, s.ID() != id && !s.Has("user"), "the destroyed session came back: %v", s.Data())
}

// noResurrectAfterRegenerate: A loads, B logs in with RegenerateID(true), A
// saves a change. The pre-login id stays dead; the new id keeps B's data.
func noResurrectAfterRegenerate(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	old, _ := e.req("", func(s *session.Session) { s.Set("n", 1) })
	a := e.read(old)
	newID, _ := e.req(old, func(s *session.Session) { s.RegenerateID(true); s.Set("user", "alice") })
	a.Set("n", 2)
	equal(t, "A's save after the login (no cookie)", saved(e.save(a)), unsent)
	s := e.read(old)
	check(t, s.ID() != old, "the pre-login id was written back: %v", s.Data())
	s = e.read(newID)
	holds(t, "the logged-in session", s, map[string]any{"user": "alice", "n": 1.0})
}
