package interop

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/filestorage"
)

// TestAccountsMetadata: the account facts Go keeps in a record's metadata
// (the device, the network, the time of the last authentication) leave
// @remix-run/session reading the session's data as before; and the record
// of an id rotated within Options.RegenerateGrace, a forwarding record,
// reads in Remix as an empty session, while Go follows it to the new id.
func TestAccountsMetadata(t *testing.T) {
	r := startRemix(t, "session.mjs")
	dir := t.TempDir()
	st, err := filestorage.New(dir, filestorage.Options{Session: session.Options{Logger: quietLogger, UserKey: "u", RegenerateGrace: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	e := newSessEnv(t, r, st, map[string]any{"kind": "fs", "dir": dir})
	e.dir = dir
	gs, line := e.goReq("", func(s *session.Session) {
		s.SetClient(session.Client{UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", Addr: netip.MustParseAddr("203.0.113.7")})
		s.Set("u", "ada")
		s.MarkAuthenticated(time.Now())
	})
	rec := readFile(t, filePath(dir, gs.ID()))
	for _, want := range []string{`"d":"Firefox on Linux"`, `"n":"203.0.113.0/24"`, `"a":`} {
		if !strings.Contains(string(rec), want) {
			t.Errorf("Go's record %s lacks %s", rec, want)
		}
	}
	if g := e.remix(requestHeader(line), rxGet("u")).got(t, 0); !g.Present || g.Value != "ada" {
		t.Errorf("Remix reads u of a record with account metadata as %+v", g)
	}
	// A rotation: the old id's record becomes a forwarding record.
	rotated, newLine := e.goReq(requestHeader(line), func(s *session.Session) { s.RegenerateID(true) })
	if rotated.ID() == gs.ID() || newLine == "" {
		t.Fatal("the rotation kept the id or sent no cookie")
	}
	if g := e.remix(requestHeader(line), rxGet("u")).got(t, 0); g.Present {
		t.Errorf("Remix reads u of a forwarding record as %+v, want an empty session", g)
	}
	if s, _ := e.goReq(requestHeader(line), nil); s.ID() != rotated.ID() || s.Get("u") != "ada" {
		t.Errorf("Go on the old id within the window: id %q, u %#v; want the rotated session", s.ID(), s.Get("u"))
	}
}
