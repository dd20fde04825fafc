package session

import (
	"context"
	"encoding/json"
	"github.com/sessionkit/sessionkit/session/internal/wiretest"
	"io"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzClientStorageRead feeds any cookie value to a client-side storage
// whose codec leaves the payload plain (as cookie storage without keys
// does): Read never fails or panics, and what it loads is what
// encoding/json reads from the payload's "d" element.
func FuzzClientStorageRead(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"i":"abc","d":[{"a":1},{"f":"x"}]}`, `{"i":5,"d":[{},{}]}`,
		`{"i":"abc","d":[{"a":1},{},{"c":1700000000000,"s":1700000000000}]}`, `{"d":[{"a":[1,{"b":null}]}]}`,
		`{"i":"abc","d":5}`, `{"i":"abc","d":"ab"}`, `{"i":"a b","d":[]}`, `{"i":"abc","d":[{"a":1}],"x":[1,2]}`,
		`{"i":"abc","d":[{"a":1}]} `, `{"i":"abc","d":[{"a":1}]}x`, "\x00\x01\x02", `{"i":"\u0061bc","d":[{"\u00e9":"\ud83d\ude00"}]}`,
		`{"i":"abc","d":[{"uid":1234567890123456789,"u":18446744073709551615,"f":9007199254740993.0}]}`,
	} {
		f.Add(s)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	plain := newPlainClientStorage(f, ClientOptions{Logger: quiet})
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, value string) {
		s, err := plain.Read(ctx, value)
		if err != nil {
			t.Fatalf("Read(%q): %v", value, err)
		}
		if !ValidID(s.ID()) {
			t.Fatalf("Read(%q): invalid id %q", value, s.ID())
		}
		var p struct {
			D []map[string]any `json:"d"`
		}
		if json.Unmarshal([]byte(value), &p) != nil || len(p.D) == 0 || p.D[0] == nil {
			return
		}
		dec := json.NewDecoder(strings.NewReader(value))
		dec.UseNumber()
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("encoding/json with UseNumber refuses %q: %v", value, err)
		}
		if got := s.Data().Values; s.Len() > 0 && !wiretest.EqualJSON(any(got), any(p.D[0])) {
			t.Fatalf("Read(%q) values %v, encoding/json %v", value, got, p.D[0])
		}
	})
}

// FuzzClientPayloadID: whatever the id (even one that bypassed Restore's
// check), the payload a client-side storage writes reads back as that same
// id, never as another one smuggled into it.
func FuzzClientPayloadID(f *testing.F) {
	for _, id := range []string{"abc", `x","i":"victim`, `\`, "\x00", "\u2028", "é", `"}`, ""} {
		f.Add(id)
	}
	st := newPlainClientStorage(f, ClientOptions{})
	f.Fuzz(func(t *testing.T, id string) {
		if !utf8.ValidString(id) {
			return // JSON strings are UTF-8; invalid bytes become U+FFFD
		}
		s := &Session{id: id, rec: recordState{originalID: id}, dirty: true}
		value, _, err := st.Save(context.Background(), s)
		if err != nil {
			t.Fatalf("Save with id %q: %v", id, err)
		}
		got, _, _, _, err := parsePayload(value)
		if err != nil || got != id {
			t.Fatalf("id %q: payload %s reads back as %q (%v)", id, value, got, err)
		}
	})
}
