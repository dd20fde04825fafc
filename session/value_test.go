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

// Numbers of every Go integer and float type convert to every numeric T
// exactly or not at all.
func TestValueNumbers(t *testing.T) {
	const snowflake = int64(1234567890123456789)
	s := Restore("id", Data{Values: map[string]any{
		"snowflake": snowflake,                  // as a record decodes it
		"negbig":    int64(-9007199254740993),   // -(2^53+1)
		"maxu":      uint64(math.MaxUint64),     //
		"minint":    int64(math.MinInt64),       //
		"e18":       int64(1000000000000000000), // a float64 exactly, too
		"f2p60":     int64(1152921504606847000), // what json.Marshal writes for float64(1<<60)
		"float2p63": float64(1 << 63),           // just past MaxInt64
		"named":     uint16(300),                // set in this request
	}})
	check := func(name string, got any, ok bool, want any, wantOK bool) {
		t.Helper()
		if ok != wantOK || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, %v; want %#v, %v", name, got, ok, want, wantOK)
		}
	}
	v1, ok := Value[int64](s, "snowflake")
	check("Value[int64](snowflake)", v1, ok, snowflake, true)
	v2, ok := Value[uint64](s, "snowflake")
	check("Value[uint64](snowflake)", v2, ok, uint64(snowflake), true)
	v3, ok := Value[int](s, "snowflake")
	check("Value[int](snowflake)", v3, ok, int(snowflake), true)
	v4, ok := Value[int32](s, "snowflake")
	check("Value[int32](snowflake)", v4, ok, int32(0), false)
	v5, ok := Value[float64](s, "snowflake")
	check("Value[float64](snowflake)", v5, ok, 0.0, false)
	v6, ok := Value[float32](s, "snowflake")
	check("Value[float32](snowflake)", v6, ok, float32(0), false)
	v7, ok := Value[uint64](s, "negbig")
	check("Value[uint64](-(2^53+1))", v7, ok, uint64(0), false)
	v8, ok := Value[int64](s, "negbig")
	check("Value[int64](-(2^53+1))", v8, ok, int64(-9007199254740993), true)
	v9, ok := Value[uint64](s, "maxu")
	check("Value[uint64](MaxUint64)", v9, ok, uint64(math.MaxUint64), true)
	v10, ok := Value[int64](s, "maxu")
	check("Value[int64](MaxUint64)", v10, ok, int64(0), false)
	v11, ok := Value[uint](s, "maxu")
	check("Value[uint](MaxUint64)", v11, ok, uint(math.MaxUint64), true)
	v12, ok := Value[int64](s, "minint")
	check("Value[int64](MinInt64)", v12, ok, int64(math.MinInt64), true)
	v13, ok := Value[float64](s, "e18")
	check("Value[float64](1e18)", v13, ok, 1e18, true)
	v14, ok := Value[float64](s, "f2p60")
	check("Value[float64](float64(2^60) as written)", v14, ok, float64(1<<60), true)
	v15, ok := Value[int64](s, "float2p63")
	check("Value[int64](2^63 as float64)", v15, ok, int64(0), false)
	v16, ok := Value[uint64](s, "float2p63")
	check("Value[uint64](2^63 as float64)", v16, ok, uint64(1)<<63, true)
	v17, ok := Value[uint8](s, "named")
	check("Value[uint8](uint16 300)", v17, ok, uint8(0), false)
	v18, ok := Value[int16](s, "named")
	check("Value[int16](uint16 300)", v18, ok, int16(300), true)
	v19, ok := Value[float32](s, "named")
	check("Value[float32](uint16 300)", v19, ok, float32(300), true)
	v20, ok := Value[string](s, "snowflake")
	check("Value[string](snowflake)", v20, ok, "", false)
	v21, ok := Value[uint8](s, "maxu")
	check("Value[uint8](MaxUint64)", v21, ok, uint8(0), false)
	type userID int64
	v22, ok := Value[userID](s, "snowflake")
	check("Value[userID](snowflake)", v22, ok, userID(snowflake), true)
	v23, ok := Value[[]int64](s, "missing")
	check("Value[[]int64](missing)", v23, ok, []int64(nil), false)
}
