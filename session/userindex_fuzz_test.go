package session

import (
	"bytes"
	"reflect"
	"slices"
	"testing"
)

// FuzzParseIndexDoc: any bytes give a document or an error, never a panic;
// a document that parses writes back to the same bytes, and what append
// writes parses back to the same document.
func FuzzParseIndexDoc(f *testing.F) {
	f.Add([]byte("sessionkit-index 1\n"))
	f.Add([]byte("sessionkit-index 1\nAbc_-xyz - 1700000000000 1701209600000 session:abc\n"))
	f.Add([]byte("sessionkit-index 1\nh r 1 0 ab/cdef\nh2 - 2 3 key with spaces\n"))
	f.Add([]byte("sessionkit-index 1\nh x 1 0 k\n"))
	f.Add([]byte("sessionkit-index 2\n"))
	f.Add([]byte("sessionkit-index 1\nepoch 3\nh - 1 0 k\n"))
	f.Add([]byte("sessionkit-index 1\nepoch 3\ncut 1700000000000\nh - 1 0 k\ncut x\n"))
	f.Add([]byte("sessionkit-index 1\nepoch -1\nepoch x\nepoch 99999999999999999999\n"))
	f.Add([]byte("h - 1 2 k\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, _ := parseIndexDoc(data)
		out := d.append(nil)
		d2, err := parseIndexDoc(out)
		if err != nil {
			t.Fatalf("what append wrote does not parse: %v\n%q", err, out)
		}
		if d.epoch != d2.epoch || d.epoch < 0 || d.cut != d2.cut || d.cut < 0 {
			t.Fatalf("round trip changed the epoch %d to %d, or the cut %d to %d", d.epoch, d2.epoch, d.cut, d2.cut)
		}
		if !reflect.DeepEqual(d.members, d2.members) && (len(d.members) > 0 || len(d2.members) > 0) {
			t.Fatalf("round trip changed the members:\n%+v\n%+v", d.members, d2.members)
		}
		if !bytes.Equal(d2.append(nil), out) {
			t.Fatalf("append is not stable:\n%q\n%q", out, d2.append(nil))
		}
	})
}

func TestIndexDoc(t *testing.T) {
	d := indexDoc{}
	if !d.add(indexMember{handle: "h1", key: "k 1", added: 1, expires: 0}) || d.add(indexMember{handle: "h1", key: "other"}) {
		t.Fatal("add of a new handle or of a known one")
	}
	d.add(indexMember{handle: "h2", key: "k2", added: 2, expires: 50})
	d.add(indexMember{handle: "h3", key: "k3", added: 3, expires: 0})
	got, err := parseIndexDoc(d.append(nil))
	if err != nil || !reflect.DeepEqual(got, d) {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	live := []liveMember{{"h3", 3, 3, false}, {"h2", 2, 9, false}, {"h1", 1, 8, false}}
	if n := d.revokeFirst(slices.Clone(live), 1, LimitEndOldest); n != 1 || !d.members[0].revoked || d.live("h1") || !d.live("h2") {
		t.Errorf("revokeFirst(1, oldest) marked %d: %+v", n, d.members)
	}
	d.members[0].revoked = false
	if n := d.revokeFirst(slices.Clone(live), 1, LimitEndLeastRecent); n != 1 || !d.members[2].revoked || d.live("h3") || !d.live("h1") {
		t.Errorf("revokeFirst(1, least recent) marked %d: %+v", n, d.members)
	}
	d.members[2].revoked = false
	d.members[0].revoked = true
	if n := d.revokeFirst(live, 0, LimitEndOldest); n != 0 {
		t.Errorf("revokeFirst(0) marked %d", n)
	}
	d.prune(msTime(50))
	if d.live("h2") || len(d.members) != 2 {
		t.Errorf("prune at the expiry kept h2: %+v", d.members)
	}
	if n := d.remove(func(m *indexMember) bool { return m.revoked }); n != 1 || len(d.members) != 1 {
		t.Errorf("remove = %d: %+v", n, d.members)
	}
	for _, bad := range []string{"", "sessionkit-index 1\nh - x 0 k\n", "sessionkit-index 1\nh - 1 0\n", "sessionkit-index 1\nh ? 1 0 k\n", "other\n"} {
		if d, err := parseIndexDoc([]byte(bad)); err == nil || len(d.members) != 0 {
			t.Errorf("parseIndexDoc(%q) = %+v, %v; want no members and an error", bad, d, err)
		}
	}
	// The epoch line.
	d, err = parseIndexDoc([]byte("sessionkit-index 1\nepoch 7\nh - 1 0 k\n"))
	if err != nil || d.epoch != 7 || len(d.members) != 1 {
		t.Errorf("a document with an epoch: %+v, %v", d, err)
	}
	if d, err := parseIndexDoc([]byte("sessionkit-index 1\nepoch -2\n")); err == nil || d.epoch != 0 {
		t.Errorf("a negative epoch: %+v, %v", d, err)
	}
	// A damaged line hides no member after it.
	d, err = parseIndexDoc([]byte("sessionkit-index 1\ngarbage\nh - 1 0 k\n"))
	if err == nil || len(d.members) != 1 || d.members[0].handle != "h" {
		t.Errorf("a damaged first line: %+v, %v", d, err)
	}
}
