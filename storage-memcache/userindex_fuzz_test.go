package memcachestorage

import (
	"slices"
	"strings"
	"testing"
)

// FuzzParseIndex: any index item value parses without panicking into
// well-formed members, and formatting them parses back to the same members.
func FuzzParseIndex(f *testing.F) {
	f.Add([]byte("h1 " + recordHash("a") + " 1700000000000\n"))
	f.Add([]byte("h1 " + recordHash("a") + " 1\nh2 " + recordHash("b") + " -5\n"))
	f.Add([]byte("garbage\n\nh x 1\nh " + strings.Repeat("z", 64) + " nan\n"))
	f.Add([]byte{0xff, ' ', 0, '\n', '\t'})
	f.Fuzz(func(t *testing.T, v []byte) {
		list := parseIndex(v)
		for _, m := range list {
			if m.handle == "" || len(m.hash) != hashLength || strings.ContainsAny(m.handle+m.hash, " \t\n\r") {
				t.Fatalf("malformed member %+v", m)
			}
		}
		if again := parseIndex(formatIndex(list)); !slices.Equal(again, list) {
			t.Fatalf("round trip: %+v, then %+v", list, again)
		}
	})
}
