package wire

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

// TestFieldsMatchMap drives Fields and a map through the same random Set
// and Delete calls and checks after each that they hold the same pairs,
// with the keys of Fields in order and each once.
func TestFieldsMatchMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var f Fields
	m := map[string]any{}
	for i := range 5000 {
		key := "k" + strconv.Itoa(r.IntN(40))
		switch r.IntN(3) {
		case 0, 1:
			f.Set(key, i)
			m[key] = i
		case 2:
			_, had := m[key]
			if got := f.Delete(key); got != had {
				t.Fatalf("Delete(%q) = %v; the map had it: %v", key, got, had)
			}
			delete(m, key)
		}
		if !reflect.DeepEqual(f.Map(), m) {
			t.Fatalf("after step %d: Fields %v, map %v", i, f, m)
		}
		if !slices.IsSortedFunc(f, func(a, b Field) int {
			if a.Key == b.Key {
				t.Fatalf("key %q twice in %v", a.Key, f)
			}
			if a.Key < b.Key {
				return -1
			}
			return 1
		}) {
			t.Fatalf("keys out of order: %v", f)
		}
		for k, v := range m {
			if got, ok := f.Get(k); !ok || got != v || !f.Has(k) {
				t.Fatalf("Get(%q) = %v, %v; want %v", k, got, ok, v)
			}
		}
		if _, ok := f.Get("absent"); ok || f.Has("absent") {
			t.Fatal("Get of an absent key found it")
		}
	}
	if !reflect.DeepEqual(FieldsOf(m), f) {
		t.Fatalf("FieldsOf(map) = %v; want %v", FieldsOf(m), f)
	}
	if FieldsOf(nil) != nil || (Fields{}).Clone() != nil || len(Fields(nil).Map()) != 0 || Fields(nil).Map() == nil {
		t.Fatal("empty Fields: FieldsOf(nil) and Clone must be nil, Map an empty map")
	}
	c := f.Clone()
	c.Set("k0", "changed")
	c.Set("new", 1)
	if reflect.DeepEqual(c, f) || f.Has("new") {
		t.Fatal("Clone shares memory with the original")
	}
}

// TestParseFieldsOrderAndDuplicates checks that a record Remix wrote, keys
// in insertion order and possibly repeated, decodes as encoding/json
// decodes it into a map (the last of repeated keys wins), in key order.
func TestParseFieldsOrderAndDuplicates(t *testing.T) {
	for _, obj := range []string{
		`{"b":1,"a":2}`, `{"a":1,"a":2}`, `{"z":1,"a":2,"z":3,"m":4,"a":5}`,
		`{"k9":0,"k8":1,"k7":2,"k6":3,"k5":4,"k4":5,"k3":6,"k2":7,"k1":8,"k0":9,"k10":10}`,
		`{"":1," ":2,"\u00e9":3,"e":4}`, `{"a":null,"b":null,"a":1}`,
	} {
		values, flash, _, err := ParseRecord([]byte(`[` + obj + `,` + obj + `]`))
		if err != nil {
			t.Fatalf("ParseRecord(%s): %v", obj, err)
		}
		var want map[string]any
		if err := json.Unmarshal([]byte(obj), &want); err != nil {
			t.Fatal(err)
		}
		for _, got := range []Fields{values, flash} {
			if !reflect.DeepEqual(got.Map(), want) || !reflect.DeepEqual(keysOf(got), keysOf(FieldsOf(want))) {
				t.Errorf("%s decoded as %v; want %v in key order", obj, got, want)
			}
		}
	}
}

// TestFieldsImmutable: only what the decoder gives as immutable values
// (nil, strings, booleans, numbers) lets Fields be shared.
func TestFieldsImmutable(t *testing.T) {
	for _, tc := range []struct {
		f    Fields
		want bool
	}{
		{nil, true},
		{Fields{{Key: "a"}, {Key: "b", Value: "s"}, stringField("bb", "t"), numberField("bc", "7"), {Key: "c", Value: true}, {Key: "d", Value: 1.5},
			{Key: "e", Value: int64(1) << 60}, {Key: "f", Value: uint64(1) << 63}}, true},
		{Fields{{Key: "a", Value: "s"}, {Key: "m", Value: map[string]any{}}}, false},
		{Fields{{Key: "l", Value: []any{}}}, false},
		{Fields{{Key: "i", Value: 42}}, false}, // a Go int is never decoded: not vouched for
	} {
		if got := tc.f.Immutable(); got != tc.want {
			t.Errorf("%v.Immutable() = %v; want %v", tc.f, got, tc.want)
		}
	}
}

// keysOf returns the keys of f in its order.
func keysOf(f Fields) []string {
	keys := make([]string, len(f))
	for i, kv := range f {
		keys[i] = kv.Key
	}
	return keys
}

// Top-level strings and numbers are kept unboxed until read: decoding
// them costs no allocation of their own, Val boxes them, and encoding
// writes them as they came.
func TestUnboxedFields(t *testing.T) {
	rec := []byte(`[{"big":12345678901234567890,"f":1.5,"n":5000,"neg":-0,"s":"alice"},{}]`)
	values, _, _, err := ParseRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{"f": 1.5, "n": 5000.0, "s": "alice"} {
		f, _ := values.Lookup(key)
		if got := f.Val(); got != want {
			t.Errorf("Val of %s = %v (%T), want %v", key, got, got, want)
		}
	}
	if f, _ := values.Lookup("s"); f.Value != (unboxedString{}) {
		t.Errorf("a string was boxed: %#v", f)
	}
	if f, _ := values.Lookup("n"); f.Value != (unboxedNumber{}) {
		t.Errorf("a number was boxed: %#v", f)
	}
	if f, _ := values.Lookup("neg"); !math.Signbit(f.Val().(float64)) {
		t.Error("-0 lost its sign")
	}
	if f, _ := values.Lookup("big"); f.Val() != any(uint64(12345678901234567890)) {
		t.Errorf("a big integer: %#v", f.Val())
	}
	if s, ok := mustLookup(t, values, "s").Str(); !ok || s != "alice" {
		t.Errorf("Str = %q, %v", s, ok)
	}
	if n, ok := mustLookup(t, values, "n").Float(); !ok || n != 5000 {
		t.Errorf("Float = %v, %v", n, ok)
	}
	if _, ok := mustLookup(t, values, "s").Float(); ok {
		t.Error("Float of a string")
	}
	enc, err := AppendRecord(nil, values, nil, Meta{})
	if err != nil || string(enc) != `[{"big":12345678901234567890,"f":1.5,"n":5000,"neg":-0,"s":"alice"},{}]` {
		t.Errorf("re-encoded as %s, %v", enc, err)
	}
	values.Set("s", 7)
	if v, _ := values.Get("s"); v != 7 {
		t.Errorf("Set over an unboxed string: %v", v)
	}
	if a := testing.AllocsPerRun(100, func() { _, _, _, _ = ParseRecord([]byte(`[{"n":5000,"s":"alice"},{}]`)) }); a > 2 {
		t.Errorf("decoding a string and a number: %v allocations, want at most 2 (the copy of the record and the fields)", a)
	}
}

func mustLookup(t *testing.T, f Fields, key string) Field {
	t.Helper()
	kv, ok := f.Lookup(key)
	if !ok {
		t.Fatalf("no %q", key)
	}
	return kv
}
