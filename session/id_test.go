package session

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
)

// T-ID1: ids come from randReader (crypto/rand), all 32 bytes of it.
func TestNewIDUsesRandReader(t *testing.T) {
	old := randReader
	defer func() { randReader = old }()
	src := bytes.Repeat([]byte{0xAB}, 32)
	randReader = bytes.NewReader(src)
	if got, want := New().ID(), base64.RawURLEncoding.EncodeToString(src); got != want {
		t.Errorf("id %q, want %q from the injected reader", got, want)
	}
	randReader = iotestErrReader{}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "random") {
			t.Errorf("a failing random source: recover() = %v, want a panic", r)
		}
	}()
	New()
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

var _ io.Reader = iotestErrReader{}

// T-ID2..4: 100k ids are distinct, 43 base64url characters (32 bytes), and
// no character position is constant.
func TestNewIDProperties(t *testing.T) {
	const n = 100_000
	seen := make(map[string]struct{}, n)
	var perPos [43]map[byte]struct{}
	for i := range perPos {
		perPos[i] = map[byte]struct{}{}
	}
	samePrefix := 0
	prev := ""
	for i := 0; i < n; i++ {
		id := newID()
		if len(id) != 43 || !ValidID(id) {
			t.Fatalf("id %q: length %d or charset", id, len(id))
		}
		raw, err := base64.RawURLEncoding.Strict().DecodeString(id)
		if err != nil || len(raw) != 32 {
			t.Fatalf("id %q decodes to %d bytes (%v), want 32 (T-ID3: >= 128 bits)", id, len(raw), err)
		}
		if _, dup := seen[id]; dup {
			t.Fatalf("duplicate id %q after %d", id, i)
		}
		seen[id] = struct{}{}
		for p := 0; p < len(id); p++ {
			perPos[p][id[p]] = struct{}{}
		}
		if prev != "" && id[:2] == prev[:2] {
			samePrefix++
		}
		prev = id
	}
	for p, set := range perPos {
		// The last character carries 4 bits: 16 values; the others 64.
		want := 64
		if p == 42 {
			want = 16
		}
		if len(set) != want {
			t.Errorf("position %d took %d distinct characters, want %d", p, len(set), want)
		}
	}
	// T-ID4: ids made back to back share a 2-character prefix about 1 time
	// in 4096 (no timestamp or counter inside).
	if samePrefix > 100 {
		t.Errorf("%d of %d consecutive ids share a 2-character prefix", samePrefix, n)
	}
}

func TestValidID(t *testing.T) {
	for _, id := range []string{"a", "hello", "AZaz09-_", strings.Repeat("x", 128), "6ddda97e-5d4b-4a5e-9b7e-0123456789ab", newID()} {
		if !ValidID(id) {
			t.Errorf("ValidID(%q) = false", id)
		}
	}
	for _, id := range []string{"", strings.Repeat("x", 129), "a b", "a.b", "a/b", "../x", "a\x00", "a\r\n", "a=", "a+b", "a;b", "é", "%2e", "a\tb", "a\x7f", "a:b"} {
		if ValidID(id) {
			t.Errorf("ValidID(%q) = true", id)
		}
	}
	for c := 0; c < 256; c++ {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if ValidID(string([]byte{byte(c)})) != ok {
			t.Errorf("ValidID(%q) = %v", c, !ok)
		}
	}
}
