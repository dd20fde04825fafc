package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

// FuzzEncode checks appendValue against json.Marshal on every value that
// encoding/json decodes from the input, on strings made of its bytes and on
// integers made of them: the same bytes, or an error where json.Marshal
// fails. The one deliberate difference is the nesting limit: past MaxDepth
// appendValue fails with ErrTooDeep where json.Marshal goes on.
func FuzzEncode(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(v any) {
			got, err := appendValue(nil, v, 0)
			if depth(v) > MaxDepth {
				if !errors.Is(err, ErrTooDeep) {
					t.Fatalf("appendValue of a value %d deep: %v, want ErrTooDeep", depth(v), err)
				}
				return
			}
			want, wantErr := json.Marshal(v)
			if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) && err == nil {
				t.Fatalf("appendValue(%#v) = %q, %v; json.Marshal %q, %v", v, got, err, want, wantErr)
			}
		}
		check(string(data))
		check(map[string]any{string(data): string(data)})
		if len(data) >= 8 {
			n := binary.LittleEndian.Uint64(data)
			check(n)
			check(int64(n))
			check(math.Float64frombits(n))
			check(float32(math.Float64frombits(n)))
		}
		var v any
		if json.Unmarshal(data, &v) == nil {
			check(v)
			check([]any{v, map[string]any{"k": v}})
		}
	})
}

// depth is how deeply maps and slices nest in v.
func depth(v any) int {
	deepest := 0
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			deepest = max(deepest, depth(e))
		}
		return 1 + deepest
	case map[string]any:
		for _, e := range v {
			deepest = max(deepest, depth(e))
		}
		return 1 + deepest
	}
	return 0
}

func TestAppendValueTypes(t *testing.T) {
	type point struct{ X, Y int }
	values := []any{
		nil, "", "x", true, false, 0.0, negZero, float32(negZero), 1.0, -1.0, 42.0, -42.0, 1e15 - 1, -(1e15 - 1), 1e15, 1e15 + 1, 1 << 53, 0.5, -2.5, 1e14 + 0.5, 1e20, 1e21, 1e-6, 1e-7, 123.456, math.MaxFloat64, math.SmallestNonzeroFloat64,
		float32(1.1), float32(1e21), float32(1e-7), 1, -1, int8(-8), int16(16), int32(32), int64(math.MinInt64),
		uint(1), uint8(8), uint16(16), uint32(32), uint64(math.MaxUint64), []any{}, []any(nil), []string{"a", "<b>"}, []string(nil),
		map[string]any{}, map[string]any(nil), map[string]any{"b": 1, "a": []any{1, "x"}, "": nil}, point{1, 2}, &point{3, 4},
		json.Number("12"), json.RawMessage(`{"a": 1}`), map[string]int{"z": 1, "a": 2}, []byte("bytes"),
		map[string]any{"k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "k7": 7, "k8": 8, "k9": 9, "k10": 10,
			"k11": 11, "k12": 12, "k13": 13, "k14": 14, "k15": 15, "k16": 16, "k17": 17, "k18": 18},
	}
	for _, v := range values {
		got, err := appendValue(nil, v, 0)
		want, wantErr := json.Marshal(v)
		if err != nil || wantErr != nil || !bytes.Equal(got, want) {
			t.Errorf("appendValue(%#v) = %s, %v; want %s, %v", v, got, err, want, wantErr)
		}
	}
	// A negative zero keeps its sign, as json.Marshal writes it, and reads
	// back as a negative zero.
	for _, v := range []any{negZero, float32(negZero)} {
		got, err := appendValue(nil, v, 0)
		if err != nil || string(got) != "-0" {
			t.Errorf("appendValue(%T negative zero) = %s, %v; want -0", v, got, err)
		}
		if back, err := decode(got); err != nil || back != 0.0 || !math.Signbit(back.(float64)) {
			t.Errorf("negative zero encoded as %s decodes as %#v, %v", got, back, err)
		}
	}
	for _, v := range []any{math.NaN(), math.Inf(1), float32(math.Inf(-1)), make(chan int), func() {}, map[string]any{"a": math.NaN()}} {
		if _, err := appendValue(nil, v, 0); err == nil {
			t.Errorf("appendValue(%T) succeeded; json.Marshal refuses it", v)
		}
	}
}

// negZero is a negative zero: the literal -0.0 is a positive zero in Go.
var negZero = math.Copysign(0, -1)

// nest returns leaf inside n levels of maps and slices, alternating.
func nest(n int, leaf any) any {
	v := leaf
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			v = []any{v}
		} else {
			v = map[string]any{"k": v}
		}
	}
	return v
}

// The encoder takes values up to MaxDepth levels, as the decoder does, and
// refuses deeper ones with ErrTooDeep, also when json.Marshal wrote the
// deep part.
func TestAppendValueDepth(t *testing.T) {
	type wrapper struct{ V any }
	for _, tc := range []struct {
		name  string
		v     any
		depth int
	}{
		{"maps and slices", nest(MaxDepth, "leaf"), MaxDepth},
		{"[]string inside", nest(MaxDepth-1, []string{"a"}), MaxDepth},
		{"struct inside", nest(MaxDepth-2, wrapper{V: []any{1}}), MaxDepth},
		{"map inside a struct", wrapper{V: nest(MaxDepth-1, 1)}, MaxDepth},
	} {
		got, err := appendValue(nil, tc.v, 0)
		if err != nil {
			t.Errorf("%s, %d levels: %v", tc.name, tc.depth, err)
			continue
		}
		if back, err := decode(got); err != nil {
			t.Errorf("%s, %d levels: does not decode: %v", tc.name, tc.depth, err)
		} else if depth(back) != tc.depth {
			t.Errorf("%s: decodes %d levels deep, want %d", tc.name, depth(back), tc.depth)
		}
		deeper := []any{tc.v}
		if _, err := appendValue(nil, deeper, 0); !errors.Is(err, ErrTooDeep) {
			t.Errorf("%s, %d levels: %v, want ErrTooDeep", tc.name, tc.depth+1, err)
		}
	}
	// The error names the limit and, at the top, the key.
	_, err := appendValue(nil, map[string]any{"deep": nest(MaxDepth, 1)}, 0)
	if err == nil || !strings.Contains(err.Error(), `"deep"`) || !strings.Contains(err.Error(), "10000") {
		t.Errorf("error %q names neither the key nor the limit", err)
	}
}

// A value that holds itself is an error, as in json.Marshal, not a stack
// overflow that kills the process.
func TestAppendValueCycle(t *testing.T) {
	m := map[string]any{}
	m["self"] = m
	l := []any{nil}
	l[0] = l
	type node struct{ Next *node }
	n := &node{}
	n.Next = n
	for _, v := range []any{m, l, map[string]any{"a": []any{m}}} {
		if _, err := appendValue(nil, v, 0); !errors.Is(err, ErrTooDeep) {
			t.Errorf("appendValue of a cycle: %v, want ErrTooDeep", err)
		}
	}
	if _, err := appendValue(nil, map[string]any{"n": n}, 0); err == nil {
		t.Error("appendValue of a pointer cycle succeeded")
	}
}

func TestNesting(t *testing.T) {
	for in, want := range map[string]int{
		`1`: 0, `"[{"`: 0, `[]`: 1, `{"a":[1,{"b":"]]]\"[["}]}`: 3, `[[],[[]]]`: 3, `"\\"`: 0,
	} {
		if got := nesting([]byte(in)); got != want {
			t.Errorf("nesting(%s) = %d, want %d", in, got, want)
		}
	}
}
