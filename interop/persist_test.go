package interop

import (
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

// TestSessionPersistFlag: a persistent session written by Go (the "p" flag in
// the record's metadata, cookie and file storage alike) loads in
// @remix-run/session with its data, and Go reads its own record back as
// persistent. Remix rewrites a session as [values, flash] without the
// metadata, so after a Remix save Go sees no choice: the session follows the
// default again (a pinned difference, like the lifetime in
// TestSessionLifetimeResetByRemix).
func TestSessionPersistFlag(t *testing.T) {
	r := startRemix(t, "session.mjs")
	for _, kind := range []string{"Cookie", "File"} {
		t.Run(kind, func(t *testing.T) {
			e := cookieEnv(t, r)
			if kind == "File" {
				e = fileEnv(t, r)
			}
			gs, line := e.goReq("", func(s *session.Session) { s.Set("u", "ada"); s.Persist(true) })
			if line == "" {
				t.Fatal("Go sent no cookie for a new persistent session")
			}
			if kind == "File" {
				elems := recordElems(t, readFile(t, filePath(e.dir, gs.ID())))
				if len(elems) != 3 || !strings.Contains(string(elems[2]), `"p":true`) {
					t.Errorf("Go's record %s, want the persist flag in its metadata", readFile(t, filePath(e.dir, gs.ID())))
				}
			}
			// Go reads its own record back as persistent.
			if s, _ := e.goReq(requestHeader(line), nil); s.ID() != gs.ID() || !s.Persistent() {
				t.Errorf("Go reads its own persistent session as id %q, persistent %v", s.ID(), s.Persistent())
			}
			// Remix loads it with its data, ignoring the metadata.
			rs := e.remix(requestHeader(line), rxGet("u"), rxSet("v", `2`))
			if g := rs.got(t, 0); !g.Present || g.Value != "ada" {
				t.Errorf("Remix reads the persistent session's u as %+v", g)
			}
			// Remix's save has no metadata: Go loads the data, with no choice.
			s, _ := e.goReq(rs.header(), nil)
			if s.ID() != gs.ID() || s.Get("v") != 2.0 || s.Get("u") != "ada" || s.Persistent() {
				t.Errorf("Go on Remix's re-save: id %q, u=%#v v=%#v, persistent %v; want the session, not persistent",
					s.ID(), s.Get("u"), s.Get("v"), s.Persistent())
			}
		})
	}
}
