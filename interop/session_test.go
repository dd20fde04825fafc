package interop

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

// sessionValue is one value stored on one side and read on the other: the
// Go value Set stores, and the same value as JSON text that the Remix side
// parses with JSON.parse.
type sessionValue struct {
	key  string
	goV  any
	json string
}

var sessionValues = []sessionValue{
	{"name", "Ada Lovelace", `"Ada Lovelace"`},
	{"count", 42, `42`},
	{"ratio", 3.25, `3.25`},
	{"negative", -7, `-7`},
	{"yes", true, `true`},
	{"no", false, `false`},
	{"zero", 0, `0`},
	{"empty", "", `""`},
	{"nested", map[string]any{"user": map[string]any{"id": 7, "roles": []any{"admin", "dev"}}, "none": nil},
		`{"user":{"id":7,"roles":["admin","dev"]},"none":null}`},
	{"array", []any{1, "two", true, nil, map[string]any{"x": 1.5}}, `[1,"two",true,null,{"x":1.5}]`},
	{"strings", []string{"a", "b"}, `["a","b"]`},
	{"unicode", "日本語 ✓ héllo 😀 👩🏽‍💻 مرحبا", `"日本語 ✓ héllo 😀 👩🏽‍💻 مرحبا"`},
	{"markup", `<a href="x">&amp;</a> \ / ' ;,=`, `"<a href=\"x\">&amp;</a> \\ / ' ;,="`},
	{"controls", "tab\there\nnewline\x00nul\u2028ls\u2029ps", `"tab\there\nnewline\u0000nul\u2028ls\u2029ps"`},
	{"big", int64(1) << 53, `9007199254740992`},
	{"tiny", 1e-7, `1e-7`},
	{"huge", 1e21, `1e21`},
}

// checkGoValues checks that s holds every value of vals, compared as JSON.
func checkGoValues(t *testing.T, s *session.Session, vals []sessionValue) {
	t.Helper()
	for _, v := range vals {
		want := decodeJSON(t, v.json)
		if !s.Has(v.key) {
			t.Errorf("Go: Has(%q) = false", v.key)
			continue
		}
		if got := s.Get(v.key); !jsonEqual(got, want) {
			t.Errorf("Go: Get(%q) = %#v, want %s", v.key, got, v.json)
		}
	}
}

// remixGets is one get action per value.
func remixGets(vals []sessionValue) []act {
	var a []act
	for _, v := range vals {
		a = append(a, rxGet(v.key))
	}
	return a
}

// checkRemixGets checks the results of remixGets, starting at result i.
func checkRemixGets(t *testing.T, rs *rxResp, i int, vals []sessionValue) {
	t.Helper()
	for j, v := range vals {
		g := rs.got(t, i+j)
		if !g.Present {
			t.Errorf("Remix: get(%q) = undefined, want %s", v.key, v.json)
			continue
		}
		if want := decodeJSON(t, v.json); !jsonEqual(g.Value, want) {
			t.Errorf("Remix: get(%q) = %s, want %s", v.key, deref(g.JSON), v.json)
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// storageRoundTrips runs the flash and values lifecycle across both sides
// on one storage (cookie or file): Remix writes, Go reads, Go writes, Remix
// reads; then the reverse.
func storageRoundTrips(t *testing.T, mk func(*testing.T) *sessEnv) {
	t.Run("RemixThenGo", func(t *testing.T) {
		e := mk(t)
		// Request 1 (Remix): values and a flash, which is not readable yet.
		acts := []act{}
		for _, v := range sessionValues {
			acts = append(acts, rxSet(v.key, v.json))
		}
		acts = append(acts, rxFlash("msg", `"saved ✓"`), rxGet("msg"), rxHas("msg"))
		rs := e.remix("", acts...)
		id := rs.id()
		if !uuidV4RE.MatchString(id) {
			t.Errorf("Remix id %q is not a UUID v4", id)
		}
		if g := rs.got(t, len(sessionValues)+1); g.Present || rs.boolResult(t, len(sessionValues)+2) {
			t.Errorf("Remix: the flash is readable in the request that set it: %+v", g)
		}
		if rs.SetCookie == nil {
			t.Fatal("Remix sent no Set-Cookie for a new session with values")
		}

		// Request 2 (Go): same id, every value, and the flash, now readable.
		var loadedDirty bool
		s, line := e.goReq(rs.header(), func(s *session.Session) {
			loadedDirty = s.State().Dirty
			if s.ID() != id {
				t.Errorf("Go: ID() = %q, want Remix's %q", s.ID(), id)
			}
			checkGoValues(t, s, sessionValues)
			if n, ok := session.Value[int](s, "count"); !ok || n != 42 {
				t.Errorf("Go: Value[int](count) = %d, %v", n, ok)
			}
			if f, ok := session.Value[float64](s, "ratio"); !ok || f != 3.25 {
				t.Errorf("Go: Value[float64](ratio) = %v, %v", f, ok)
			}
			type user struct {
				ID    int
				Roles []string
			}
			if u, ok := session.Value[map[string]user](s, "nested"); !ok || u["user"].ID != 7 || len(u["user"].Roles) != 2 {
				t.Errorf("Go: Value[map[string]user](nested) = %+v, %v", u, ok)
			}
			if got := s.Get("msg"); got != "saved ✓" || !s.Has("msg") {
				t.Errorf("Go: the flash Remix set reads %#v, want %q", got, "saved ✓")
			}
			s.Set("visits", 2)
		})
		if !loadedDirty {
			t.Error("Go: a session loaded with flash is not dirty (the flash would never be cleared)")
		}
		if line == "" {
			t.Fatal("Go sent no Set-Cookie")
		}
		if s.ID() != id {
			t.Errorf("Go saved under %q, want %q", s.ID(), id)
		}

		// Request 3 (Remix): values intact plus Go's, the flash consumed.
		rs = e.remix(requestHeader(line), append(remixGets(sessionValues), rxGet("visits"), rxGet("msg"), rxHas("msg"), rxData())...)
		n := len(sessionValues)
		if rs.loadedID() != id {
			t.Errorf("Remix: id after Go's save = %v, want %q", rs.Loaded.ID, id)
		}
		checkRemixGets(t, rs, 0, sessionValues)
		if g := rs.got(t, n); !g.Present || !jsonEqual(g.Value, 2) {
			t.Errorf("Remix: get(visits) = %+v, want 2", g)
		}
		if g := rs.got(t, n+1); g.Present || rs.boolResult(t, n+2) {
			t.Errorf("Remix: the flash survived Go's save: %+v", g)
		}
		if rs.Loaded.Dirty || rs.SetCookie != nil {
			t.Errorf("Remix: a session without flash loaded dirty=%v, Set-Cookie %v", rs.Loaded.Dirty, deref(rs.SetCookie))
		}
	})

	t.Run("GoThenRemix", func(t *testing.T) {
		e := mk(t)
		// Request 1 (Go): values and a flash.
		s, line := e.goReq("", func(s *session.Session) {
			for _, v := range sessionValues {
				s.Set(v.key, v.goV)
			}
			s.Flash("msg", "welcome, 世界")
			if s.Has("msg") || s.Get("msg") != nil {
				t.Error("Go: the flash is readable in the request that set it")
			}
		})
		id := s.ID()
		if !goIDRE.MatchString(id) {
			t.Errorf("Go id %q is not 43 characters of base64url", id)
		}
		if line == "" {
			t.Fatal("Go sent no Set-Cookie")
		}

		// Request 2 (Remix): same id, values, the flash readable; it adds a value.
		acts := append(remixGets(sessionValues), rxGet("msg"), rxHas("msg"), rxSet("by", `"remix"`))
		rs := e.remix(requestHeader(line), acts...)
		n := len(sessionValues)
		if rs.loadedID() != id {
			t.Errorf("Remix: loaded id %v, want Go's %q", rs.Loaded.ID, id)
		}
		checkRemixGets(t, rs, 0, sessionValues)
		if g := rs.got(t, n); !g.Present || g.Value != "welcome, 世界" || !rs.boolResult(t, n+1) {
			t.Errorf("Remix: get(msg) = %+v, want Go's flash", g)
		}
		if !rs.Loaded.Dirty {
			t.Error("Remix: a session with Go's flash did not load dirty")
		}
		if rs.SetCookie == nil || rs.id() != id {
			t.Fatalf("Remix: Set-Cookie %v, id %v", deref(rs.SetCookie), rs.ID)
		}

		// Request 3 (Go): values plus Remix's, the flash gone, nothing to save.
		_, line = e.goReq(rs.header(), func(s *session.Session) {
			if s.ID() != id {
				t.Errorf("Go: ID() = %q, want %q", s.ID(), id)
			}
			checkGoValues(t, s, sessionValues)
			if s.Get("by") != "remix" {
				t.Errorf("Go: Get(by) = %#v", s.Get("by"))
			}
			if s.Has("msg") {
				t.Errorf("Go: the flash survived Remix's save: %#v", s.Get("msg"))
			}
			if s.State().Dirty {
				t.Error("Go: a session without flash loaded dirty")
			}
		})
		if line != "" {
			t.Errorf("Go sent a Set-Cookie for an unchanged session: %s", short(line))
		}
	})

	// A value and a flash under the same key: the value wins on both sides.
	t.Run("ValueShadowsFlash", func(t *testing.T) {
		e := mk(t)
		_, line := e.goReq("", func(s *session.Session) { s.Set("k", "value"); s.Flash("k", "flash") })
		rs := e.remix(requestHeader(line), rxGet("k"), rxUnset("k"), rxGet("k"))
		if g := rs.got(t, 0); g.Value != "value" {
			t.Errorf("Remix: get(k) = %+v, want the value", g)
		}
		// Remix's unset removes only the value; the flash loaded this
		// request is still readable (remix-behaviour.md §1.2).
		if g := rs.got(t, 2); g.Value != "flash" {
			t.Errorf("Remix: get(k) after unset = %+v, want the flash", g)
		}
		_, line2 := e.goReq("", func(s *session.Session) { s.Set("k", "v2") })
		rs2 := e.remix(requestHeader(line2), rxFlash("k", `"f2"`))
		e.goReq(rs2.header(), func(s *session.Session) {
			if s.Get("k") != "v2" {
				t.Errorf("Go: Get(k) = %#v, want the value over Remix's flash", s.Get("k"))
			}
		})
	})

	// A null flash: present with value null on both sides.
	t.Run("NullFlash", func(t *testing.T) {
		e := mk(t)
		_, line := e.goReq("", func(s *session.Session) { s.Flash("n", nil) })
		rs := e.remix(requestHeader(line), rxGet("n"), rxHas("n"))
		if g := rs.got(t, 0); !g.Present || g.Type != "null" || !rs.boolResult(t, 1) {
			t.Errorf("Remix: Go's null flash reads %+v, has=%v", g, rs.boolResult(t, 1))
		}
		rs = e.remix("", rxFlash("n", `null`))
		e.goReq(rs.header(), func(s *session.Session) {
			if !s.Has("n") || s.Get("n") != nil {
				t.Errorf("Go: Remix's null flash: Has=%v Get=%#v", s.Has("n"), s.Get("n"))
			}
		})
	})
}

// TestSessionCookieStorage: Go's cookiestorage (no keys) and Remix's
// createCookieSessionStorage read each other's sessions through the signed
// Remix-format cookie, values and flash, both ways.
func TestSessionCookieStorage(t *testing.T) {
	r := startRemix(t, "session.mjs")
	storageRoundTrips(t, func(t *testing.T) *sessEnv { return cookieEnv(t, r) })

	t.Run("Payload", func(t *testing.T) {
		e := cookieEnv(t, r)
		// Go's payload: {"i":id,"d":[values,flash,meta]}; Remix ignores the
		// metadata and drops it when it saves.
		s, line := e.goReq("", func(s *session.Session) { s.Set("a", 1); s.Flash("f", "x") })
		p := parsePayload(t, e.cookieValueOf(line))
		elems := recordElems(t, string(p.D))
		if p.I != s.ID() || len(elems) != 3 {
			t.Fatalf("Go payload: i=%v, d has %d elements; want 3 (values, flash, meta)", p.I, len(elems))
		}
		var m map[string]float64
		if err := json.Unmarshal(elems[2], &m); err != nil || m["c"] == 0 || m["s"] == 0 {
			t.Errorf("Go payload metadata %s: want {\"c\":ms,\"s\":ms}", elems[2])
		}
		rs := e.remix(requestHeader(line), rxData())
		if rs.Loaded.Data != `[{"a":1},{}]` {
			t.Errorf("Remix session.data of Go's payload = %s, want [{\"a\":1},{}]", rs.Loaded.Data)
		}
		if rs.Saved == nil {
			t.Fatal("Remix did not save a session that loaded flash")
		}
		if *rs.Saved != `{"i":"`+s.ID()+`","d":[{"a":1},{}]}` {
			t.Errorf("Remix payload = %s", *rs.Saved)
		}
		// Go reads Remix's payload without metadata.
		e.goReq(rs.header(), func(s2 *session.Session) {
			if s2.ID() != s.ID() || s2.Get("a") != 1.0 {
				t.Errorf("Go: id %q a=%#v", s2.ID(), s2.Get("a"))
			}
		})
	})

	t.Run("GoldenVector", func(t *testing.T) {
		// remix-behaviour.md §7: the middleware's cookie for
		// {"i":"fixed-id","d":[{"count":1},{"msg":"hi"}]}, secret1.
		e := cookieEnv(t, r)
		hdr := "__sess=eyJpIjoiZml4ZWQtaWQiLCJkIjpbeyJjb3VudCI6MX0seyJtc2ciOiJoaSJ9XX0=.YWl4g4tuexVxt3R2thJKmFMbVglNClWk7G8I7Kd2oJ8"
		o := e.c.Options()
		o.Secrets = []string{"secret1"}
		gc := newPair(t, r, sessCookieName, o).gc
		v, ok := gc.Parse(hdr)
		if !ok {
			t.Fatal("Go cannot parse the golden cookie")
		}
		s, err := e.st.Read(context.Background(), v)
		if err != nil {
			t.Fatal(err)
		}
		if s.ID() != "fixed-id" || s.Get("count") != 1.0 || s.Get("msg") != "hi" {
			t.Errorf("Go reads the golden payload as id %q count %#v msg %#v", s.ID(), s.Get("count"), s.Get("msg"))
		}
	})

	t.Run("Destroy", func(t *testing.T) {
		e := cookieEnv(t, r)
		rs := e.remix("", rxSet("a", `1`))
		// Go destroys: Expire(), which Remix reads as "" → a fresh session.
		_, line := e.goReq(rs.header(), func(s *session.Session) { s.Destroy() })
		if line != e.c.Expire() {
			t.Fatalf("Go destroy line %q", line)
		}
		rs2 := e.remix(requestHeader(line), rxGet("a"))
		if rs2.CookieValue == nil || *rs2.CookieValue != "" || rs2.loadedID() == rs.id() || rs2.Loaded.Size != 0 {
			t.Errorf("Remix after Go's destroy: cookie %v, id %v, size %d", rs2.CookieValue, rs2.Loaded.ID, rs2.Loaded.Size)
		}
		// Remix destroys: `__sess=; …`, which Go reads as "" → a fresh session.
		_, gl := e.goReq("", func(s *session.Session) { s.Set("a", 1) })
		rs3 := e.remix(requestHeader(gl), rxDestroy())
		if rs3.Saved == nil || *rs3.Saved != "" || rs3.SetCookie == nil {
			t.Fatalf("Remix destroy: saved %v, Set-Cookie %v", rs3.Saved, rs3.SetCookie)
		}
		s, _ := e.goReq(rs3.header(), nil)
		if s.Len() != 0 || s.Get("a") != nil {
			t.Errorf("Go after Remix's destroy: %d keys", s.Len())
		}
	})

	t.Run("RegenerateID", func(t *testing.T) {
		e := cookieEnv(t, r)
		// Remix regenerates Go's id: new UUID, data kept, a warning that the
		// old cookie cannot be revoked.
		gs, line := e.goReq("", func(s *session.Session) { s.Set("user", "ada") })
		rs := e.remix(requestHeader(line), rxRegen(true))
		if rs.id() == gs.ID() || !uuidV4RE.MatchString(rs.id()) || len(rs.Warnings) != 1 {
			t.Errorf("Remix regenerate: id %v, warnings %q", rs.ID, rs.Warnings)
		}
		s, line2 := e.goReq(rs.header(), func(s *session.Session) {
			if s.ID() != rs.id() || s.Get("user") != "ada" {
				t.Errorf("Go after Remix's regenerate: id %q user %#v", s.ID(), s.Get("user"))
			}
			s.RegenerateID(true)
		})
		if !goIDRE.MatchString(s.ID()) || line2 == "" {
			t.Errorf("Go regenerate: id %q", s.ID())
		}
		rs2 := e.remix(requestHeader(line2), rxGet("user"))
		if rs2.loadedID() != s.ID() || rs2.got(t, 0).Value != "ada" {
			t.Errorf("Remix after Go's regenerate: id %v user %+v", rs2.Loaded.ID, rs2.got(t, 0))
		}
	})
}

// TestSessionFileStorage: Go's filestorage and Remix's
// createFsSessionStorage share one directory.
func TestSessionFileStorage(t *testing.T) {
	r := startRemix(t, "session.mjs")
	storageRoundTrips(t, func(t *testing.T) *sessEnv { return fileEnv(t, r) })

	t.Run("SamePath", func(t *testing.T) {
		e := fileEnv(t, r)
		// Remix writes: one file, at the sha256 layout, the 2-element record.
		rs := e.remix("", rxSet("a", `1`), rxFlash("f", `"x"`))
		rid := rs.id()
		if rs.Saved == nil || *rs.Saved != rid {
			t.Fatalf("Remix fs save returned %v, want the id", rs.Saved)
		}
		if v := e.cookieValueOf(*rs.SetCookie); v != rid {
			t.Errorf("cookie value %q, want the id %q", v, rid)
		}
		if got, want := sessionFiles(t, e.dir), []string{relPath(e.dir, rid)}; !equalStrings(got, want) {
			t.Errorf("after Remix's save the directory holds %q, want %q", got, want)
		}
		if got := readFile(t, filePath(e.dir, rid)); got != `[{"a":1},{"f":"x"}]` {
			t.Errorf("Remix's record %s", got)
		}
		// Go reads it and writes back to the same file (nothing else left behind).
		e.goReq(requestHeader(*rs.SetCookie), func(s *session.Session) {
			if s.ID() != rid || s.Get("a") != 1.0 || s.Get("f") != "x" {
				t.Errorf("Go reads Remix's file as id %q a=%#v f=%#v", s.ID(), s.Get("a"), s.Get("f"))
			}
		})
		if got, want := sessionFiles(t, e.dir), []string{relPath(e.dir, rid)}; !equalStrings(got, want) {
			t.Errorf("after Go's save the directory holds %q, want %q", got, want)
		}
		elems := recordElems(t, readFile(t, filePath(e.dir, rid)))
		if len(elems) != 3 || string(elems[0]) != `{"a":1}` || string(elems[1]) != `{}` {
			t.Errorf("Go's record for Remix's id: %s", readFile(t, filePath(e.dir, rid)))
		}
		// Go writes a new session: its file is where Remix looks.
		gs, line := e.goReq("", func(s *session.Session) { s.Set("b", "β") })
		gp := filePath(e.dir, gs.ID())
		if !fileExists(gp) {
			t.Fatalf("Go's record is not at %s; files: %q", gp, sessionFiles(t, e.dir))
		}
		rs2 := e.remix(requestHeader(line), rxGet("b"))
		if rs2.loadedID() != gs.ID() || rs2.got(t, 0).Value != "β" {
			t.Errorf("Remix reads Go's file as id %v b=%+v", rs2.Loaded.ID, rs2.got(t, 0))
		}
		if got, want := sessionFiles(t, e.dir), sortedStrings(relPath(e.dir, rid), relPath(e.dir, gs.ID())); !equalStrings(got, want) {
			t.Errorf("directory holds %q, want %q", got, want)
		}
	})

	t.Run("RegenerateDeleteOld", func(t *testing.T) {
		e := fileEnv(t, r)
		rs := e.remix("", rxSet("user", `"ada"`))
		a := rs.id()
		oldA := rs.header()
		// Go regenerates Remix's session with deleteOld: A's file goes.
		gs, line := e.goReq(oldA, func(s *session.Session) { s.RegenerateID(true) })
		b := gs.ID()
		if fileExists(filePath(e.dir, a)) || !fileExists(filePath(e.dir, b)) {
			t.Errorf("after Go's RegenerateID(true): A exists=%v, B exists=%v", fileExists(filePath(e.dir, a)), fileExists(filePath(e.dir, b)))
		}
		if rs := e.remix(oldA, rxGet("user")); rs.loadedID() == a || rs.got(t, 0).Present {
			t.Errorf("Remix still reads the deleted id %q: %+v", a, rs.got(t, 0))
		}
		// Remix regenerates Go's session with deleteOld: B's file goes.
		rs2 := e.remix(requestHeader(line), rxGet("user"), rxRegen(true))
		c := rs2.id()
		if rs2.loadedID() != b || rs2.got(t, 0).Value != "ada" || rs2.DeleteID == nil || *rs2.DeleteID != b {
			t.Errorf("Remix on Go's regenerated id: loaded %v, user %+v, deleteId %v", rs2.Loaded.ID, rs2.got(t, 0), rs2.DeleteID)
		}
		if fileExists(filePath(e.dir, b)) || !fileExists(filePath(e.dir, c)) {
			t.Errorf("after Remix's regenerateId(true): B exists=%v, C exists=%v", fileExists(filePath(e.dir, b)), fileExists(filePath(e.dir, c)))
		}
		if s, _ := e.goReq(requestHeader(line), nil); s.ID() == b || s.Len() != 0 {
			t.Errorf("Go still reads the deleted id: id %q, %d keys", s.ID(), s.Len())
		}
		e.goReq(rs2.header(), func(s *session.Session) {
			if s.ID() != c || s.Get("user") != "ada" {
				t.Errorf("Go on Remix's regenerated id: %q user %#v", s.ID(), s.Get("user"))
			}
		})
		// Without deleteOld, both ids stay readable on both sides.
		rs3 := e.remix(rs2.header(), rxRegen(false))
		for _, id := range []string{c, rs3.id()} {
			if !fileExists(filePath(e.dir, id)) {
				t.Errorf("regenerateId(false): %s has no file", id)
			}
		}
		e.goReq(rs2.header(), func(s *session.Session) {
			if s.ID() != c {
				t.Errorf("Go: the old id after regenerateId(false) is gone")
			}
		})
	})

	t.Run("Destroy", func(t *testing.T) {
		e := fileEnv(t, r)
		// Go destroys Remix's session.
		rs := e.remix("", rxSet("a", `1`))
		_, line := e.goReq(rs.header(), func(s *session.Session) { s.Destroy() })
		if fileExists(filePath(e.dir, rs.id())) {
			t.Error("Go's Destroy left Remix's file")
		}
		if rs2 := e.remix(rs.header(), rxGet("a")); rs2.loadedID() == rs.id() || rs2.Loaded.Size != 0 {
			t.Errorf("Remix after Go's destroy (old cookie): id %v size %d", rs2.Loaded.ID, rs2.Loaded.Size)
		}
		if rs2 := e.remix(requestHeader(line)); rs2.CookieValue == nil || *rs2.CookieValue != "" || rs2.loadedID() == rs.id() {
			t.Errorf("Remix after Go's destroy (Expire line): cookie %v id %v", rs2.CookieValue, rs2.Loaded.ID)
		}
		// Remix destroys Go's session.
		gs, gl := e.goReq("", func(s *session.Session) { s.Set("a", 1) })
		rs3 := e.remix(requestHeader(gl), rxDestroy())
		if rs3.Saved == nil || *rs3.Saved != "" || fileExists(filePath(e.dir, gs.ID())) {
			t.Errorf("Remix destroy: saved %v, file left=%v", rs3.Saved, fileExists(filePath(e.dir, gs.ID())))
		}
		if s, _ := e.goReq(requestHeader(gl), nil); s.ID() == gs.ID() || s.Len() != 0 {
			t.Errorf("Go after Remix's destroy (old cookie): id %q, %d keys", s.ID(), s.Len())
		}
		if s, _ := e.goReq(rs3.header(), nil); s.ID() == gs.ID() || s.Len() != 0 {
			t.Errorf("Go after Remix's destroy line: id %q, %d keys", s.ID(), s.Len())
		}
		// Go's Destroy then Flash: a new session Remix can read the flash from.
		_, gl3 := e.goReq("", func(s *session.Session) { s.Set("u", 1) })
		old := e.cookieValueOf(gl3)
		ns, gl4 := e.goReq(requestHeader(gl3), func(s *session.Session) { s.Destroy(); s.Flash("msg", "signed out") })
		if ns.ID() == old || fileExists(filePath(e.dir, old)) {
			t.Errorf("Go Destroy+Flash: id %q (old %q), old file left=%v", ns.ID(), old, fileExists(filePath(e.dir, old)))
		}
		if rs4 := e.remix(requestHeader(gl4), rxGet("msg"), rxGet("u")); rs4.got(t, 0).Value != "signed out" || rs4.got(t, 1).Present {
			t.Errorf("Remix after Go's Destroy+Flash: msg %+v u %+v", rs4.got(t, 0), rs4.got(t, 1))
		}
	})
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sortedStrings(s ...string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
