package wire

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

var recordSeeds = []string{
	`[{"count":1},{}]`, `[{},{},{"a":1,"e":2,"d":"Firefox on Linux","n":"203.0.113.0/24","f":"x"}]`, `[{"count":1},{"msg":"hi"},{"c":1700000000000,"s":1700000000001}]`,
	`[]`, `[null]`, `[{"a":[1,{"b":null}],"u":"\u00e9\ud83d\ude00"},{"x":true}]`, `[{"n":-0},{"f":1e-7}]`,
	`[{"big":123456789012345678901234567890}]`, `[{},{},{"c":2.5}]`, `{}`, `[1]`, `"\xff"`, `[{"k":"\xff\xfe"}]`,
	`[{"uid":1234567890123456789,"u":18446744073709551615,"f":1e19,"g":1.152921504606847e18}]`,
	`[{},{},{"c":9007199254740993,"s":18446744073709551615}]`,
	`[{},{},{"c":1,"s":2,"p":true}]`, `[{},{},{"p":false}]`, `[{},{},{"p":1,"c":"x"}]`,
}

// FuzzRecord: ParseRecord never panics, and a record it accepts re-encodes
// into valid JSON that parses to the same data. A float64 past 2^53 comes
// back as the int64 or uint64 its shortest form spells (it is written as a
// whole number, as json.Marshal writes it), which converts back to the
// same float64.
func FuzzRecord(f *testing.F) {
	for _, s := range recordSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		values, flash, m, err := ParseRecord(b)
		if err != nil {
			if !errors.Is(err, ErrBadRecord) {
				t.Fatalf("ParseRecord(%q): %v does not wrap ErrBadRecord", b, err)
			}
			return
		}
		enc, err := AppendRecord(nil, values, flash, m)
		if err != nil {
			t.Fatalf("re-encoding %q: %v", b, err)
		}
		if !json.Valid(enc) {
			t.Fatalf("re-encoding %q gave invalid JSON %q", b, enc)
		}
		v2, f2, m2, err := ParseRecord(enc)
		if err != nil {
			t.Fatalf("re-parsing %q (from %q): %v", enc, b, err)
		}
		if !sameValue(values, v2) || !sameValue(flash, f2) || m != m2 {
			t.Fatalf("round trip of %q:\n%v %v %+v\n%v %v %+v", b, values, flash, m, v2, f2, m2)
		}
	})
}

// FuzzPayload: ParsePayload never panics, and a payload it accepts
// re-encodes into one that parses to the same id and data, whatever
// characters the id holds.
func FuzzPayload(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"i":"abc","d":[{"a":1},{"f":"x"}]}`, `{"i":5,"d":[{},{}]}`,
		`{"i":"abc","d":[{"a":1},{},{"c":1700000000000,"s":1700000000000}]}`, `{"d":[{"a":[1,{"b":null}]}]}`,
		`{"i":"abc","d":5}`, `{"i":"abc","d":"ab"}`, `{"i":"a b","d":[]}`, `{"i":"abc","d":[{"a":1}],"x":[1,2]}`,
		`{"i":"abc","d":[{"a":1}]} `, `{"i":"abc","d":[{"a":1}]}x`, "\x00\x01\x02", `{"i":"\u0061bc","d":[{"\u00e9":"\ud83d\ude00"}]}`,
		`{"i":"x\",\"i\":\"victim","d":null}`, `{"i":"abc","d":[{"uid":1234567890123456789}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		id, values, flash, m, err := ParsePayload(payload)
		if err != nil {
			return
		}
		enc, err := AppendPayload(nil, id, values, flash, m)
		if err != nil {
			t.Fatalf("re-encoding %q: %v", payload, err)
		}
		id2, v2, f2, m2, err := ParsePayload(string(enc))
		if err != nil {
			t.Fatalf("re-parsing %q (from %q): %v", enc, payload, err)
		}
		if id2 != id || !sameValue(values, v2) || !sameValue(flash, f2) || m != m2 {
			t.Fatalf("round trip of %q:\n%q %v %v %+v\n%q %v %v %+v", payload, id, values, flash, m, id2, v2, f2, m2)
		}
	})
}

// sameValue is reflect.DeepEqual with nil and empty maps equal, Fields
// compared as the maps they hold, and a
// float64 equal to the int64 or uint64 that converts to it.
func sameValue(a, b any) bool {
	if f, ok := a.(Fields); ok {
		a = f.Map()
	}
	if f, ok := b.(Fields); ok {
		b = f.Map()
	}
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if w, ok := b[k]; !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], b[i]) {
				return false
			}
		}
		return true
	case float64:
		switch b := b.(type) {
		case float64:
			return math.Float64bits(a) == math.Float64bits(b)
		case int64:
			return float64(b) == a && math.Abs(a) > maxExactInt
		case uint64:
			return float64(b) == a
		}
		return false
	}
	return reflect.DeepEqual(a, b)
}

func TestParseRecordNumbers(t *testing.T) {
	values, _, m, err := ParseRecord([]byte(`[{"uid":1234567890123456789,"max":18446744073709551615,"n":3},{},{"c":9007199254740993,"s":1700000000000}]`))
	want := map[string]any{"uid": int64(1234567890123456789), "max": uint64(math.MaxUint64), "n": 3.0}
	if err != nil || !reflect.DeepEqual(values.Map(), want) {
		t.Errorf("values = %#v, %v; want %#v", values, err, want)
	}
	if m != (Meta{Created: 0, Saved: 1700000000000}) {
		t.Errorf("meta = %+v; a time past 2^53 ms is unknown (0)", m)
	}
	enc, err := AppendRecord(nil, values, nil, Meta{})
	if string(enc) != `[{"max":18446744073709551615,"n":3,"uid":1234567890123456789},{}]` || err != nil {
		t.Errorf("AppendRecord = %s, %v", enc, err)
	}
}

// The id is a JSON string, escaped, so that no id can add members to the
// payload ({"i":"x","i":"victim"} would read as another id).
// The persistence choice is written only when one was made, after the
// times; a "p" that is not a boolean is no choice, and other keys and
// mistyped times do not disturb it.
func TestMetaPersist(t *testing.T) {
	for _, tt := range []struct {
		m    Meta
		want string
	}{
		{Meta{Created: 1, Saved: 2, Persist: PersistOn}, `[{},{},{"c":1,"s":2,"p":true}]`},
		{Meta{Created: 1, Persist: PersistOff}, `[{},{},{"c":1,"p":false}]`},
		{Meta{Persist: PersistOn}, `[{},{},{"p":true}]`},
		{Meta{Created: 1, Saved: 2}, `[{},{},{"c":1,"s":2}]`},
	} {
		enc, err := AppendRecord(nil, nil, nil, tt.m)
		if err != nil || string(enc) != tt.want {
			t.Errorf("AppendRecord(%+v) = %s, %v; want %s", tt.m, enc, err, tt.want)
		}
		if _, _, m, err := ParseRecord(enc); err != nil || m != tt.m {
			t.Errorf("ParseRecord(%s) = %+v, %v", enc, m, err)
		}
	}
	for rec, want := range map[string]Meta{
		`[{},{},{"p":1}]`:                     {},
		`[{},{},{"p":"true"}]`:                {},
		`[{},{},{"p":null,"c":5}]`:            {Created: 5},
		`[{},{},{"x":[true],"p":false}]`:      {Persist: PersistOff},
		`[{},{},{"c":"soon","p":true,"s":7}]`: {Saved: 7, Persist: PersistOn},
		`[{},{},{"p":true,"p":false}]`:        {Persist: PersistOff},
	} {
		if _, _, m, err := ParseRecord([]byte(rec)); err != nil || m != want {
			t.Errorf("ParseRecord(%s) = %+v, %v; want %+v", rec, m, err, want)
		}
	}
}

// The account facts: the authentication time, the epoch, the device and
// network, the forwarding seal. Strings over MaxFactLen and values of the
// wrong type are dropped; the rest of the metadata stays.
func TestMetaFacts(t *testing.T) {
	m := Meta{Created: 1, Saved: 2, Auth: 3, Epoch: 4, Device: "Firefox on Linux", Network: "203.0.113.0/24", Forward: "abc"}
	enc, err := AppendRecord(nil, nil, nil, m)
	want := `[{},{},{"c":1,"s":2,"a":3,"e":4,"d":"Firefox on Linux","n":"203.0.113.0/24","f":"abc"}]`
	if err != nil || string(enc) != want {
		t.Fatalf("AppendRecord = %s, %v; want %s", enc, err, want)
	}
	if _, _, got, err := ParseRecord(enc); err != nil || got != m {
		t.Errorf("ParseRecord(%s) = %+v, %v", enc, got, err)
	}
	long := strings.Repeat("x", MaxFactLen+1)
	for rec, want := range map[string]Meta{
		`[{},{},{"d":"` + long + `","c":5}]`:      {Created: 5},
		`[{},{},{"d":7,"n":true,"f":null,"e":2}]`: {Epoch: 2},
		`[{},{},{"a":-5,"e":"3","d":"é"}]`:        {Device: "é"},
	} {
		if _, _, got, err := ParseRecord([]byte(rec)); err != nil || got != want {
			t.Errorf("ParseRecord(%.80s) = %+v, %v; want %+v", rec, got, err, want)
		}
	}
}

func TestAppendPayloadEscapesID(t *testing.T) {
	for _, id := range []string{"abc", `x","i":"victim`, "a\\b", "\x00\n", "<script>", "\xff"} {
		enc, err := AppendPayload(nil, id, FieldsOf(map[string]any{"k": "v"}), nil, Meta{Created: 1, Saved: 2})
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			I string          `json:"i"`
			D json.RawMessage `json:"d"`
		}
		if err := json.Unmarshal(enc, &p); err != nil || p.I != strings.ToValidUTF8(id, "\uFFFD") {
			t.Errorf("AppendPayload(%q) = %s: encoding/json reads id %q, %v", id, enc, p.I, err)
		}
		got, values, _, m, err := ParsePayload(string(enc))
		if err != nil || got != strings.ToValidUTF8(id, "\uFFFD") || values.Map()["k"] != "v" || m != (Meta{Created: 1, Saved: 2}) {
			t.Errorf("ParsePayload(%s) = %q, %v, %+v, %v", enc, got, values, m, err)
		}
	}
	enc, _ := AppendPayload(nil, "abc", nil, nil, Meta{})
	if string(enc) != `{"i":"abc","d":[{},{}]}` {
		t.Errorf("AppendPayload = %s", enc)
	}
}

// What the encoder writes, the decoder reads: values MaxDepth levels deep
// (the values map included) round-trip through records and payloads; one
// level more is ErrTooDeep when encoding, and refused when decoding.
func TestRecordDepth(t *testing.T) {
	deepest := map[string]any{"v": nest(MaxDepth-1, "leaf")}
	tooDeep := map[string]any{"v": nest(MaxDepth, "leaf")}
	if depth(deepest) != MaxDepth || depth(tooDeep) != MaxDepth+1 {
		t.Fatalf("test values are %d and %d deep", depth(deepest), depth(tooDeep))
	}
	for _, flash := range []bool{false, true} {
		values, fl := deepest, map[string]any(nil)
		if flash {
			values, fl = nil, deepest
		}
		rec, err := AppendRecord(nil, FieldsOf(values), FieldsOf(fl), Meta{Created: 1})
		if err != nil {
			t.Fatalf("AppendRecord of %d levels: %v", MaxDepth, err)
		}
		v, f, _, err := ParseRecord(rec)
		if err != nil || !sameValue(v, values) || !sameValue(f, fl) {
			t.Errorf("ParseRecord of %d levels: %v", MaxDepth, err)
		}
		p, err := AppendPayload(nil, "id", FieldsOf(values), FieldsOf(fl), Meta{Created: 1})
		if err != nil {
			t.Fatalf("AppendPayload of %d levels: %v", MaxDepth, err)
		}
		_, v, f, _, err = ParsePayload(string(p))
		if err != nil || !sameValue(v, values) || !sameValue(f, fl) {
			t.Errorf("ParsePayload of %d levels: %v", MaxDepth, err)
		}

		if flash {
			values, fl = nil, tooDeep
		} else {
			values, fl = tooDeep, nil
		}
		if _, err := AppendRecord(nil, FieldsOf(values), FieldsOf(fl), Meta{}); !errors.Is(err, ErrTooDeep) {
			t.Errorf("AppendRecord of %d levels: %v, want ErrTooDeep", MaxDepth+1, err)
		}
		if _, err := AppendPayload(nil, "id", FieldsOf(values), FieldsOf(fl), Meta{}); !errors.Is(err, ErrTooDeep) {
			t.Errorf("AppendPayload of %d levels: %v, want ErrTooDeep", MaxDepth+1, err)
		}
	}
	inner := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, _, _, err := ParseRecord([]byte(`[{"v":` + inner + `}]`)); !errors.Is(err, ErrTooDeep) || !errors.Is(err, ErrBadRecord) {
		t.Errorf("ParseRecord of %d levels: %v, want ErrTooDeep and ErrBadRecord", MaxDepth+1, err)
	}
	if _, _, _, _, err := ParsePayload(`{"i":"x","d":[{"v":` + inner + `}]}`); !errors.Is(err, ErrTooDeep) {
		t.Errorf("ParsePayload of %d levels: %v, want ErrTooDeep", MaxDepth+1, err)
	}
}
