package redisstorage

import (
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// FuzzParseIndexValue: any value in a user's index hash parses without
// panicking, to a valid id or to nothing, and indexValue round-trips.
func FuzzParseIndexValue(f *testing.F) {
	f.Add(indexValue("abc_DEF-123", time.UnixMilli(1700000000000)))
	f.Add("1 ")
	f.Add(" id")
	f.Add("x y")
	f.Add("-1 ../../etc")
	f.Fuzz(func(t *testing.T, v string) {
		id, added, ok := parseIndexValue(v)
		if ok && !session.ValidID(id) {
			t.Fatalf("parsed an invalid id %q", id)
		}
		if ok {
			if id2, added2, ok2 := parseIndexValue(indexValue(id, added)); !ok2 || id2 != id || !added2.Equal(added) {
				t.Fatalf("round trip of %q: %q %v %v", v, id2, added2, ok2)
			}
		}
	})
}
