package session

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
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

// everyStorage returns one of each storage in this package.
func everyStorage(t *testing.T) map[string]Storage {
	t.Helper()
	file, err := NewFileStorage(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Large enough for the deep values of TestSaveDepthLimit.
	plain, err := NewCookieStorage(CookieStorageOptions{MaxSize: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := NewCookieStorage(CookieStorageOptions{MaxSize: 1 << 16, Keys: [][]byte{make([]byte, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]Storage{"memory": NewMemoryStorage(Options{}), "file": file, "cookie": plain, "sealed cookie": sealed}
}

// saveAndReload saves s to st and reads it back as the next request would.
func saveAndReload(t *testing.T, st Storage, s *Session) *Session {
	t.Helper()
	ctx := context.Background()
	v, set, err := st.Save(ctx, s)
	if err != nil || !set {
		t.Fatalf("Save: %v, set %v", err, set)
	}
	next, err := st.Read(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	if next.ID() != s.ID() {
		t.Fatalf("the saved session did not load (a fresh session %s)", next.ID())
	}
	return next
}

// Integers are exact through every storage, across the whole int64 and
// uint64 ranges, while small numbers still load as float64.
func TestValueExactIntegersThroughStorages(t *testing.T) {
	ints := []int64{0, 1, -1, 1<<53 - 1, 1 << 53, 1<<53 + 1, -(1<<53 + 1), 1234567890123456789, -1234567890123456789,
		math.MaxInt64, math.MaxInt64 - 1, math.MinInt64, math.MinInt64 + 1}
	uints := []uint64{0, 1, 1<<53 + 1, math.MaxInt64, 1 << 63, 1<<63 + 1, 12345678901234567890, math.MaxUint64 - 1, math.MaxUint64}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		u := rnd.Uint64() >> rnd.IntN(64)
		uints = append(uints, u)
		ints = append(ints, int64(u), -int64(u>>1))
	}
	for name, st := range everyStorage(t) {
		t.Run(name, func(t *testing.T) {
			s, _ := st.Read(context.Background(), "")
			s.Set("uid", int64(1234567890123456789))
			s.Set("small", 42)
			for i, n := range ints {
				s.Set("i"+strconv.Itoa(i), n)
			}
			for i, n := range uints {
				s.Set("u"+strconv.Itoa(i), n)
			}
			s = saveAndReload(t, st, s)
			if n, ok := Value[int64](s, "uid"); !ok || n != 1234567890123456789 {
				t.Errorf("Value[int64](uid) = %d, %v; want 1234567890123456789", n, ok)
			}
			if got := s.Get("uid"); got != int64(1234567890123456789) {
				t.Errorf("Get(uid) = %#v, want int64(1234567890123456789)", got)
			}
			if got := s.Get("small"); got != 42.0 {
				t.Errorf("Get(small) = %#v, want float64 42", got)
			}
			if _, ok := Value[float64](s, "uid"); ok {
				t.Error("Value[float64](uid) succeeded: float64 cannot hold it")
			}
			for i, want := range ints {
				if n, ok := Value[int64](s, "i"+strconv.Itoa(i)); !ok || n != want {
					t.Errorf("Value[int64] of %d = %d, %v", want, n, ok)
				}
				if n, ok := Value[uint64](s, "i"+strconv.Itoa(i)); ok != (want >= 0) || ok && n != uint64(want) {
					t.Errorf("Value[uint64] of %d = %d, %v", want, n, ok)
				}
			}
			for i, want := range uints {
				if n, ok := Value[uint64](s, "u"+strconv.Itoa(i)); !ok || n != want {
					t.Errorf("Value[uint64] of %d = %d, %v", want, n, ok)
				}
				if n, ok := Value[int64](s, "u"+strconv.Itoa(i)); ok != (want <= math.MaxInt64) || ok && n != int64(want) {
					t.Errorf("Value[int64] of %d = %d, %v", want, n, ok)
				}
				if n, ok := Value[uint32](s, "u"+strconv.Itoa(i)); ok != (want <= math.MaxUint32) || ok && uint64(n) != want {
					t.Errorf("Value[uint32] of %d = %d, %v", want, n, ok)
				}
			}
		})
	}
}

// nestedSlices returns leaf inside n levels of slices.
func nestedSlices(n int, leaf any) any {
	v := leaf
	for range n {
		v = []any{v}
	}
	return v
}

func sliceDepth(v any) int {
	if l, ok := v.([]any); ok && len(l) == 1 {
		return 1 + sliceDepth(l[0])
	}
	return 0
}

// A value nested deeper than the decoder reads fails the save with
// ErrTooDeep, naming the limit, and leaves the stored session as it was;
// the deepest value the limit allows saves and loads. A value that holds
// itself is an error too.
func TestSaveDepthLimit(t *testing.T) {
	ctx := context.Background()
	for name, st := range everyStorage(t) {
		t.Run(name, func(t *testing.T) {
			s, _ := st.Read(ctx, "")
			s.Set("deepest", nestedSlices(MaxDepth-1, "leaf")) // the values map is the first level
			s.Set("user", "alice")
			v, _, err := st.Save(ctx, s)
			if err != nil {
				t.Fatalf("saving a value %d levels deep: %v", MaxDepth-1, err)
			}
			s, _ = st.Read(ctx, v)
			if got := sliceDepth(s.Get("deepest")); got != MaxDepth-1 || s.Get("user") != "alice" {
				t.Fatalf("loaded a value %d levels deep and user %v, want %d and alice", got, s.Get("user"), MaxDepth-1)
			}

			for what, change := range map[string]func(*Session){
				"Set":   func(s *Session) { s.Set("deep", nestedSlices(MaxDepth, "leaf")) },
				"Flash": func(s *Session) { s.Flash("deep", nestedSlices(MaxDepth, "leaf")) },
				"cycle": func(s *Session) {
					m := map[string]any{}
					m["self"] = m
					s.Set("loop", m)
				},
			} {
				s, _ := st.Read(ctx, v)
				s.Set("user", "mallory")
				change(s)
				_, _, err := st.Save(ctx, s)
				if !errors.Is(err, ErrTooDeep) {
					t.Fatalf("%s: saving a value nested too deeply: %v, want ErrTooDeep", what, err)
				}
				if !strings.Contains(err.Error(), "10000") {
					t.Errorf("%s: error %q does not name the limit", what, err)
				}
				if s, _ := st.Read(ctx, v); s.ID() == "" || s.Get("user") != "alice" {
					t.Errorf("%s: after the failed save the stored session has user %v, want alice", what, s.Get("user"))
				}
			}
		})
	}
}
