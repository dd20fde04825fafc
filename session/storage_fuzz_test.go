package session

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCookieStorageRead feeds any cookie value to cookie storage, plain and
// sealed: Read never fails or panics, and what it loads from a plain payload
// is what encoding/json reads from the payload's "d" element.
func FuzzCookieStorageRead(f *testing.F) {
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
	plain, err := NewCookieStorage(CookieStorageOptions{Options: Options{Logger: quiet}})
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := NewCookieStorage(CookieStorageOptions{Options: Options{Logger: quiet}, Keys: [][]byte{make([]byte, 32)}})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, value string) {
		if _, err := sealed.Read(ctx, value); err != nil {
			t.Fatalf("sealed Read(%q): %v", value, err)
		}
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
		if len(value) > 2*4096 {
			return
		}
		dec := json.NewDecoder(strings.NewReader(value))
		dec.UseNumber()
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("encoding/json with UseNumber refuses %q: %v", value, err)
		}
		if got := s.Data().Values; s.Len() > 0 && !equalJSON(any(got), any(p.D[0])) {
			t.Fatalf("Read(%q) values %v, encoding/json %v", value, got, p.D[0])
		}
	})
}

// FuzzCookiePayloadID: whatever the id (even one that bypassed Restore's
// check), the payload cookie storage writes reads back as that same id, never
// as another one smuggled into it.
func FuzzCookiePayloadID(f *testing.F) {
	for _, id := range []string{"abc", `x","i":"victim`, `\`, "\x00", "\u2028", "é", `"}`, ""} {
		f.Add(id)
	}
	st, err := NewCookieStorage(CookieStorageOptions{MaxSize: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !utf8.ValidString(id) {
			return // JSON strings are UTF-8; invalid bytes become U+FFFD
		}
		s := &Session{id: id, originalID: id, dirty: true}
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

// equalJSON compares a decoded value with what encoding/json decodes with
// UseNumber: the same maps, slices, strings, booleans and nils, and numbers
// as sameNumber says.
func equalJSON(got, want any) bool {
	switch w := want.(type) {
	case json.Number:
		return sameNumber(got, string(w))
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range g {
			if !equalJSON(g[i], w[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, v := range g {
			if wv, ok := w[k]; !ok || !equalJSON(v, wv) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}

// sameNumber reports whether got is how the JSON number literal lit decodes
// in a session: the int64 or uint64 it spells when it is a whole number past
// ±2^53 that fits one (where encoding/json, deliberately unlike us, rounds
// to a float64), otherwise the float64 strconv.ParseFloat gives, bit for bit.
func sameNumber(got any, lit string) bool {
	i, ierr := strconv.ParseInt(lit, 10, 64)
	u, uerr := strconv.ParseUint(lit, 10, 64)
	exactInt := ierr == nil && (i > 1<<53 || i < -(1<<53))
	exactUint := ierr != nil && uerr == nil
	switch g := got.(type) {
	case int64:
		return exactInt && g == i
	case uint64:
		return exactUint && g == u
	case float64:
		f, err := strconv.ParseFloat(lit, 64)
		return !exactInt && !exactUint && err == nil && math.Float64bits(f) == math.Float64bits(g)
	}
	return false
}
