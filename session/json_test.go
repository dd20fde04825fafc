package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

var jsonSeeds = []string{
	`null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `1.5`, `1e3`, `1E-7`, `1e21`, `123456789012345678901234567890`,
	`1e999`, `-1e999`, `01`, `1.`, `.5`, `-`, `+1`, `0x10`, `9007199254740993`,
	`""`, `"abc"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\u4e2d"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00\ud83d"`,
	`"\ud83d\u0041"`, `"\uZZZZ"`, `"\x"`, "\"\x01\"", "\"\xff\xfe\"", "\"é日本\"", `"<>&"`, "\"\u2028\u2029\"",
	`[]`, `[1,2,3]`, `[1,]`, `[,1]`, `[[[]]]`, `{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":1,}`, `{a:1}`, `{"a" 1}`,
	`[{"count":1},{}]`, `[{"count":1},{"msg":"hi"},{"c":1700000000000,"s":1700000000001}]`,
	`  [ {  } , { } ]  `, `[{"a":[1,{"b":null}]}]`, `[] x`, `{"a":"b"}}`, `{"a":1 2}`, `{"a":1`, `[{"a":1 x]`, `[1 2]`, `"unterminated`, `[1`, `{"a":`, `tru`, `nul`, ``,
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 100) + strings.Repeat("]", 100),
}

// FuzzJSONDecode checks decodeJSON against encoding/json: the same values for
// every input json.Unmarshal accepts, an error for every input it refuses.
func FuzzJSONDecode(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeJSON(data)
		var want any
		wantErr := json.Unmarshal(data, &want)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("decodeJSON(%q): err %v, encoding/json err %v", data, err, wantErr)
		}
		if err != nil {
			if !errors.Is(err, errJSONSyntax) {
				t.Fatalf("error %v does not wrap errJSONSyntax", err)
			}
			return
		}
		if !equalJSON(got, want) {
			t.Fatalf("decodeJSON(%q) = %#v, encoding/json %#v", data, got, want)
		}
	})
}

// equalJSON is reflect.DeepEqual that also tells 0 from -0.
func equalJSON(a, b any) bool {
	if fa, ok := a.(float64); ok {
		fb, ok := b.(float64)
		return ok && math.Float64bits(fa) == math.Float64bits(fb)
	}
	switch a := a.(type) {
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equalJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if w, ok := b[k]; !ok || !equalJSON(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// FuzzJSONEncode checks appendJSON against json.Marshal on every value that
// encoding/json decodes from the input, and on strings made of its bytes.
func FuzzJSONEncode(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(v any) {
			got, err := appendJSON(nil, v)
			want, wantErr := json.Marshal(v)
			if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) && err == nil {
				t.Fatalf("appendJSON(%#v) = %q, %v; json.Marshal %q, %v", v, got, err, want, wantErr)
			}
		}
		check(string(data))
		check(map[string]any{string(data): string(data)})
		var v any
		if json.Unmarshal(data, &v) == nil {
			check(v)
			check([]any{v, map[string]any{"k": v}})
		}
	})
}

func TestAppendJSONTypes(t *testing.T) {
	type point struct{ X, Y int }
	values := []any{
		nil, "", "x", true, false, 0.0, -0.0, 1.0, 1e20, 1e21, 1e-6, 1e-7, 123.456, math.MaxFloat64, math.SmallestNonzeroFloat64,
		float32(1.1), float32(1e21), float32(1e-7), 1, -1, int8(-8), int16(16), int32(32), int64(math.MinInt64),
		uint(1), uint8(8), uint16(16), uint32(32), uint64(math.MaxUint64), []any{}, []any(nil), []string{"a", "<b>"}, []string(nil),
		map[string]any{}, map[string]any(nil), map[string]any{"b": 1, "a": []any{1, "x"}, "": nil}, point{1, 2}, &point{3, 4},
		json.Number("12"), json.RawMessage(`{"a": 1}`), map[string]int{"z": 1, "a": 2}, []byte("bytes"),
		map[string]any{"k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "k7": 7, "k8": 8, "k9": 9, "k10": 10,
			"k11": 11, "k12": 12, "k13": 13, "k14": 14, "k15": 15, "k16": 16, "k17": 17, "k18": 18},
	}
	for _, v := range values {
		got, err := appendJSON(nil, v)
		want, wantErr := json.Marshal(v)
		if err != nil || wantErr != nil || !bytes.Equal(got, want) {
			t.Errorf("appendJSON(%#v) = %s, %v; want %s, %v", v, got, err, want, wantErr)
		}
	}
	for _, v := range []any{math.NaN(), math.Inf(1), float32(math.Inf(-1)), make(chan int), func() {}, map[string]any{"a": math.NaN()}} {
		if _, err := appendJSON(nil, v); err == nil {
			t.Errorf("appendJSON(%T) succeeded; json.Marshal refuses it", v)
		}
	}
}

func TestDecodeJSONDepth(t *testing.T) {
	ok := strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth)
	if _, err := decodeJSON([]byte(ok)); err != nil {
		t.Fatalf("depth %d: %v", maxJSONDepth, err)
	}
	deep := "[" + ok + "]"
	if _, err := decodeJSON([]byte(deep)); err == nil {
		t.Fatalf("depth %d accepted", maxJSONDepth+1)
	}
}

// A value that holds itself is an error, as in json.Marshal, not a stack
// overflow that kills the process; a deep value that is not a cycle encodes.
func TestAppendJSONCycle(t *testing.T) {
	m := map[string]any{}
	m["self"] = m
	l := []any{nil}
	l[0] = l
	for _, v := range []any{m, l, map[string]any{"a": []any{m}}} {
		if _, err := appendJSON(nil, v); err == nil {
			t.Errorf("appendJSON of a cycle succeeded")
		}
	}
	s := New()
	s.Set("loop", m)
	if _, _, err := NewMemoryStorage(Options{}).Save(context.Background(), s); err == nil {
		t.Error("saving a session that holds a cycle succeeded")
	}
	var deep any = "leaf"
	for i := 0; i < 3*maxEncodeDepth; i++ {
		deep = map[string]any{"k": deep}
	}
	got, err := appendJSON(nil, deep)
	want, _ := json.Marshal(deep)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("a deep value: %v, equal to json.Marshal: %v", err, bytes.Equal(got, want))
	}
}
