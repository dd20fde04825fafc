package session

import (
	"math"
	"reflect"
	"testing"
)

type valuePoint struct {
	X int    `json:"x"`
	Y string `json:"y"`
}

func TestValue(t *testing.T) {
	s := Restore("id", Data{Values: map[string]any{
		"int":      42.0, // as JSON decodes it
		"frac":     3.5,
		"neg":      -7.0,
		"huge":     1e20,
		"maxsafe":  9007199254740992.0,
		"str":      "5",
		"bool":     true,
		"null":     nil,
		"point":    map[string]any{"x": 7.0, "y": "q"},
		"badpoint": map[string]any{"x": "seven"},
		"list":     []any{"a", "b"},
		"nums":     []any{1.0, 2.0},
		"nan":      math.NaN(),
		"inf":      math.Inf(1),
		"ninf":     math.Inf(-1),
		"native":   int64(9),
		"int8ok":   127.0,
		"int8bad":  128.0,
	}})
	check := func(name string, got any, ok bool, want any, wantOK bool) {
		t.Helper()
		if ok != wantOK || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, %v; want %#v, %v", name, got, ok, want, wantOK)
		}
	}
	v1, ok := Value[int](s, "int")
	check("Value[int](42)", v1, ok, 42, true)
	v2, ok := Value[int](s, "frac")
	check("Value[int](3.5)", v2, ok, 0, false)
	v3, ok := Value[float64](s, "frac")
	check("Value[float64](3.5)", v3, ok, 3.5, true)
	v4, ok := Value[uint](s, "neg")
	check("Value[uint](-7)", v4, ok, uint(0), false)
	v5, ok := Value[int32](s, "huge")
	check("Value[int32](1e20)", v5, ok, int32(0), false)
	v6, ok := Value[int64](s, "huge")
	check("Value[int64](1e20)", v6, ok, int64(0), false)
	v7, ok := Value[uint64](s, "huge")
	check("Value[uint64](1e20)", v7, ok, uint64(0), false)
	v8, ok := Value[int64](s, "maxsafe")
	check("Value[int64](2^53)", v8, ok, int64(1)<<53, true)
	v9, ok := Value[int](s, "str")
	check("Value[int](\"5\")", v9, ok, 0, false)
	v10, ok := Value[string](s, "int")
	check("Value[string](42)", v10, ok, "", false)
	v11, ok := Value[bool](s, "bool")
	check("Value[bool]", v11, ok, true, true)
	v12, ok := Value[string](s, "null")
	check("Value[string](null)", v12, ok, "", false)
	v13, ok := Value[string](s, "missing")
	check("Value[string](missing)", v13, ok, "", false)
	v14, ok := Value[valuePoint](s, "point")
	check("Value[struct]", v14, ok, valuePoint{7, "q"}, true)
	v15, ok := Value[valuePoint](s, "badpoint")
	check("Value[struct](bad)", v15, ok, valuePoint{}, false)
	v16, ok := Value[[]string](s, "list")
	check("Value[[]string]", v16, ok, []string{"a", "b"}, true)
	v17, ok := Value[[]int](s, "nums")
	check("Value[[]int]", v17, ok, []int{1, 2}, true)
	v18, ok := Value[map[string]any](s, "point")
	check("Value[map]", v18, ok, map[string]any{"x": 7.0, "y": "q"}, true)
	v19, ok := Value[any](s, "int")
	check("Value[any]", v19, ok, any(42.0), true)
	for _, k := range []string{"nan", "inf", "ninf"} {
		if v, ok := Value[int](s, k); ok {
			t.Errorf("Value[int](%s) = %d, true", k, v)
		}
	}
	v20, ok := Value[int](s, "native")
	check("Value[int](int64 in memory)", v20, ok, 9, true)
	v21, ok := Value[int8](s, "int8ok")
	check("Value[int8](127)", v21, ok, int8(127), true)
	v22, ok := Value[int8](s, "int8bad")
	check("Value[int8](128)", v22, ok, int8(0), false)
	v23, ok := Value[float32](s, "huge")
	check("Value[float32](1e20)", v23, ok, float32(1e20), true)
	v24, ok := Value[*valuePoint](s, "point")
	if !ok || v24 == nil || *v24 != (valuePoint{7, "q"}) {
		t.Errorf("Value[*struct] = %v, %v", v24, ok)
	}

	// Values set in this request keep their Go type.
	s.Set("native-int", 5)
	v25, ok := Value[int](s, "native-int")
	check("Value[int](int 5)", v25, ok, 5, true)
	v26, ok := Value[float64](s, "native-int")
	check("Value[float64](int 5)", v26, ok, 5.0, true)
	s.Set("pt", valuePoint{1, "a"})
	v27, ok := Value[valuePoint](s, "pt")
	check("Value[struct] native", v27, ok, valuePoint{1, "a"}, true)
}

// Value never panics, whatever T and whatever is stored.
func TestValueNeverPanics(t *testing.T) {
	s := New()
	stored := []any{1.0, 1.5, -1.0, math.NaN(), math.Inf(1), "x", true, []any{1.0}, map[string]any{"a": 1.0},
		func() {}, make(chan int), complex(1, 2), struct{ F func() }{}, &valuePoint{}, []byte("x"), int64(1) << 62, uint64(math.MaxUint64)}
	for i, v := range stored {
		s.Set("k", v)
		_ = i
		Value[int](s, "k")
		Value[uint8](s, "k")
		Value[uintptr](s, "k")
		Value[float32](s, "k")
		Value[string](s, "k")
		Value[error](s, "k")
		Value[func()](s, "k")
		Value[chan int](s, "k")
		Value[complex128](s, "k")
		Value[valuePoint](s, "k")
		Value[*valuePoint](s, "k")
		Value[[]int](s, "k")
		Value[map[int]string](s, "k")
		Value[[2]int](s, "k")
		Value[any](s, "k")
	}
	s.Destroy()
	if _, ok := Value[int](s, "k"); ok {
		t.Error("Value found a key of a destroyed session")
	}
}
