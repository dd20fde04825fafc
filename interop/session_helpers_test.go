package interop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/filestorage"
)

// The session cookie both sides use: Remix format, signed with one secret,
// as @remix-run/session-middleware and sessionmiddleware would send it.
const (
	sessCookieName = "__sess"
	sessSecret     = "interop-session-secret"
)

// quietLogger drops the storages' warnings (corrupt or foreign payloads are
// expected in some tests).
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// sessEnv is one storage configured on both sides: a Go session.Storage and
// the matching @remix-run/session storage in the helper, behind the same
// signed cookie.
type sessEnv struct {
	t       *testing.T
	r       *remix
	c       *cookie.Cookie
	ro      remixOptions
	st      session.Storage
	storage map[string]any // the helper's storage spec
	dir     string         // file storage only
}

func newSessEnv(t *testing.T, r *remix, st session.Storage, storage map[string]any) *sessEnv {
	t.Helper()
	o := cookie.Options{Format: cookie.Remix, Secrets: []string{sessSecret}, HTTPOnly: true}
	c, err := cookie.New(sessCookieName, o)
	if err != nil {
		t.Fatal(err)
	}
	return &sessEnv{t: t, r: r.with(t), c: c, ro: remixOpts(o), st: st, storage: storage}
}

// cookieEnv: Go's cookiestorage without keys and Remix's
// createCookieSessionStorage().
func cookieEnv(t *testing.T, r *remix) *sessEnv {
	t.Helper()
	st, err := cookiestorage.New(cookiestorage.Options{CookieName: sessCookieName, Session: session.ClientOptions{Logger: quietLogger}})
	if err != nil {
		t.Fatal(err)
	}
	return newSessEnv(t, r, st, map[string]any{"kind": "cookie"})
}

// fileEnv: Go's filestorage and Remix's createFsSessionStorage on the
// same fresh directory.
func fileEnv(t *testing.T, r *remix) *sessEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := filestorage.New(dir, filestorage.Options{Session: session.Options{Logger: quietLogger}})
	if err != nil {
		t.Fatal(err)
	}
	e := newSessEnv(t, r, st, map[string]any{"kind": "fs", "dir": dir})
	e.dir = dir
	return e
}

// act is one action on the Remix session (see node/session.mjs).
type act map[string]any

func rxGet(k string) act   { return act{"do": "get", "key": k} }
func rxHas(k string) act   { return act{"do": "has", "key": k} }
func rxUnset(k string) act { return act{"do": "unset", "key": k} }
func rxData() act          { return act{"do": "data"} }
func rxDestroy() act       { return act{"do": "destroy"} }
func rxRegen(deleteOld bool) act {
	return act{"do": "regenerateId", "deleteOld": deleteOld}
}

// rxSet and rxFlash send the value as JSON text that the helper parses with
// JSON.parse, so the JS value is exactly what the text says.
func rxSet(k, jsonText string) act   { return act{"do": "set", "key": k, "json": jsonText} }
func rxFlash(k, jsonText string) act { return act{"do": "flash", "key": k, "json": jsonText} }

// rxGot is the answer to a get action.
type rxGot struct {
	Present bool
	Value   any
	JSON    *string
	Type    string
	Error   string
}

type rxResp struct {
	CookieValue *string
	Loaded      struct {
		ID    any // a string, or whatever JSON "i" held
		Dirty bool
		Size  int
		Data  string
	}
	Results   []json.RawMessage
	ID        any
	DeleteID  *string
	Destroyed bool
	Dirty     bool
	Saved     *string
	SetCookie *string
	Warnings  []string
}

// remix runs one request on the Remix side: header is the Cookie request
// header ("" sends none).
func (e *sessEnv) remix(header string, actions ...act) *rxResp {
	e.t.Helper()
	var h any
	if header != "" {
		h = header
	}
	if actions == nil {
		actions = []act{}
	}
	var out rxResp
	e.r.mustCall(map[string]any{"op": "sessionRequest", "name": sessCookieName, "options": e.ro,
		"header": h, "storage": e.storage, "actions": actions}, &out)
	if len(out.Results) != len(actions) {
		e.t.Fatalf("remix gave %d results for %d actions", len(out.Results), len(actions))
	}
	return &out
}

func (rs *rxResp) loadedID() string { s, _ := rs.Loaded.ID.(string); return s }
func (rs *rxResp) id() string       { s, _ := rs.ID.(string); return s }

// header is the Cookie request header for the next request: "" when Remix
// sent no Set-Cookie.
func (rs *rxResp) header() string {
	if rs.SetCookie == nil {
		return ""
	}
	return requestHeader(*rs.SetCookie)
}

// got decodes result i as a get.
func (rs *rxResp) got(t *testing.T, i int) rxGot {
	t.Helper()
	var g rxGot
	if err := json.Unmarshal(rs.Results[i], &g); err != nil {
		t.Fatalf("result %d %s: %v", i, rs.Results[i], err)
	}
	return g
}

func (rs *rxResp) boolResult(t *testing.T, i int) bool {
	t.Helper()
	var b bool
	if err := json.Unmarshal(rs.Results[i], &b); err != nil {
		t.Fatalf("result %d %s: %v", i, rs.Results[i], err)
	}
	return b
}

func (rs *rxResp) stringResult(t *testing.T, i int) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(rs.Results[i], &s); err != nil {
		t.Fatalf("result %d %s: %v", i, rs.Results[i], err)
	}
	return s
}

// goReq runs one request on the Go side, as sessionmiddleware does: parse
// the session cookie from header, Read, fn, Save, and turn the answer into
// a Set-Cookie line (Expire() for a destroyed session, "" when none is
// sent).
func (e *sessEnv) goReq(header string, fn func(s *session.Session)) (s *session.Session, setCookie string) {
	e.t.Helper()
	ctx := context.Background()
	value := ""
	if header != "" {
		value, _ = e.c.Parse(header)
	}
	s, err := e.st.Read(ctx, value)
	if err != nil {
		e.t.Fatalf("Go Read: %v", err)
	}
	if fn != nil {
		fn(s)
	}
	v, set, err := e.st.Save(ctx, s)
	if err != nil {
		e.t.Fatalf("Go Save: %v", err)
	}
	switch {
	case !set:
		return s, ""
	case v == "":
		return s, e.c.Expire()
	}
	line, err := e.c.Serialize(v)
	if err != nil {
		e.t.Fatalf("Go Serialize: %v", err)
	}
	return s, line
}

// cookieValueOf is what Go's cookie reads from a Set-Cookie line.
func (e *sessEnv) cookieValueOf(setCookie string) string {
	e.t.Helper()
	v, ok := e.c.Parse(requestHeader(setCookie))
	if !ok {
		e.t.Fatalf("Go cannot parse %q", short(setCookie))
	}
	return v
}

// filePath is where both fs storages keep id's record, computed here
// independently: dir/<sha256 hex [0:2]>/<[2:64]>.
func filePath(dir, id string) string {
	sum := sha256.Sum256([]byte(id))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(dir, h[:2], h[2:])
}

// sessionFiles lists the regular files under dir, relative to it (the
// storages' own temporary or probe files included, so a leftover shows).
func sessionFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() != ".lock" { // file storage's per-shard lock file, not a record
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func relPath(dir, id string) string {
	rel, _ := filepath.Rel(dir, filePath(dir, id))
	return filepath.ToSlash(rel)
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

var (
	uuidV4RE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	goIDRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
)

// decodeJSON parses JSON text into encoding/json's types.
func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %q: %v", short(s), err)
	}
	return v
}

// record splits a stored record or cookie payload's "d" into its elements.
func recordElems(t *testing.T, s string) []json.RawMessage {
	t.Helper()
	var elems []json.RawMessage
	if err := json.Unmarshal([]byte(s), &elems); err != nil {
		t.Fatalf("record %q: %v", short(s), err)
	}
	return elems
}

// payload is a cookie storage value {"i":…,"d":[…]}.
type payload struct {
	I any
	D json.RawMessage
}

func parsePayload(t *testing.T, s string) payload {
	t.Helper()
	var p payload
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		t.Fatalf("payload %q: %v", short(s), err)
	}
	return p
}
