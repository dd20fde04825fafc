package session

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
)

// Value returns the session value under key as a T, and whether there is one
// of that type. Values loaded from a storage have JSON types, so Value
// converts: a number comes back as any integer or float type it fits, a map
// as a struct. A missing key, or a value that does not fit T (a fraction or
// an overflow for an integer type, a negative number for an unsigned one, a
// string for a number) gives the zero T and false, never a different number;
// Value never panics.
//
// Integers are exact across the whole int64 and uint64 range. Get returns a
// loaded number as a float64, except a whole number beyond ±2^53 (where
// float64 stops counting in ones, e.g. a snowflake id), which is an int64,
// or a uint64 above math.MaxInt64, holding the exact value. Value[float64]
// (or float32) gives the nearest float, as encoding/json does, except for
// such an integer that the float type cannot hold: 1234567890123456789 gives
// false, while 1e18 (as a float64 is written) gives 1e18.
func Value[T any](s *Session, key string) (T, bool) {
	var zero T
	f, ok := s.field(key)
	if !ok {
		return zero, false
	}
	// A loaded string or number is read without boxing it (wire.Field).
	if p, isString := any(&zero).(*string); isString {
		if str, ok := f.Str(); ok {
			*p = str
			return zero, true
		}
	}
	if n, ok := f.Float(); ok {
		if t, ok, decided := convertFrom[T](number{kind: reflect.Float64, f: n}); decided {
			return t, ok
		}
	}
	v := f.Val()
	if v == nil {
		return zero, false
	}
	if t, ok := v.(T); ok {
		return t, true
	}
	if t, ok, decided := convertNumber[T](v); decided {
		return t, ok
	}
	// Slow path: JSON round trip, for structs, typed slices and maps.
	b, err := json.Marshal(v)
	if err != nil {
		return zero, false
	}
	var t T
	if err := json.Unmarshal(b, &t); err != nil {
		return zero, false
	}
	return t, true
}

// number is a Go number of any type: an int64, a uint64 or a float64, as
// kind says.
type number struct {
	kind reflect.Kind // reflect.Int64, reflect.Uint64 or reflect.Float64
	i    int64
	u    uint64
	f    float64
}

// numberOf returns v as a number, false when it is not one.
func numberOf(v any) (number, bool) {
	switch v := v.(type) {
	case float64:
		return number{kind: reflect.Float64, f: v}, true
	case int64:
		return number{kind: reflect.Int64, i: v}, true
	case uint64:
		return number{kind: reflect.Uint64, u: v}, true
	case int:
		return number{kind: reflect.Int64, i: int64(v)}, true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return number{kind: reflect.Int64, i: rv.Int()}, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return number{kind: reflect.Uint64, u: rv.Uint()}, true
	case reflect.Float32, reflect.Float64:
		return number{kind: reflect.Float64, f: rv.Float()}, true
	}
	return number{}, false
}

// int64 returns n as an int64 if it is one exactly.
func (n number) int64() (int64, bool) {
	switch n.kind {
	case reflect.Int64:
		return n.i, true
	case reflect.Uint64:
		return int64(n.u), n.u <= math.MaxInt64
	}
	// Not NaN (NaN != its Trunc), and within [-2^63, 2^63).
	if n.f != math.Trunc(n.f) || n.f < -(1<<63) || n.f >= 1<<63 {
		return 0, false
	}
	return int64(n.f), true
}

// uint64 returns n as a uint64 if it is one exactly.
func (n number) uint64() (uint64, bool) {
	switch n.kind {
	case reflect.Int64:
		return uint64(n.i), n.i >= 0
	case reflect.Uint64:
		return n.u, true
	}
	if n.f != math.Trunc(n.f) || n.f < 0 || n.f >= 1<<64 {
		return 0, false
	}
	return uint64(n.f), true
}

// float returns n as a float of the given bits: a float is rounded to the
// nearest; an integer must be one the float holds exactly, or the shortest
// decimal form of the float (as JSON writes a float64 past 2^53), so that an
// integer id never reads as a different number.
func (n number) float(bits int) (float64, bool) {
	switch n.kind {
	case reflect.Int64:
		f := roundFloat(float64(n.i), bits)
		if n.i >= -(1<<53) && n.i <= 1<<53 && int64(f) == n.i {
			return f, true
		}
		return f, strconv.FormatFloat(f, 'f', -1, bits) == strconv.FormatInt(n.i, 10)
	case reflect.Uint64:
		f := roundFloat(float64(n.u), bits)
		if n.u <= 1<<53 && uint64(f) == n.u {
			return f, true
		}
		return f, strconv.FormatFloat(f, 'f', -1, bits) == strconv.FormatUint(n.u, 10)
	}
	return n.f, true
}

// roundFloat rounds f to a float of the given bits.
func roundFloat(f float64, bits int) float64 {
	if bits == 32 {
		return float64(float32(f))
	}
	return f
}

// convertNumber converts v to T when both are numbers (decided is true),
// with ok false when v does not fit T. When either is not a number, decided
// is false and the caller converts some other way.
func convertNumber[T any](v any) (t T, ok, decided bool) {
	n, isNumber := numberOf(v)
	if !isNumber {
		return t, false, false
	}
	return convertFrom[T](n)
}

// convertFrom is convertNumber of the number n.
func convertFrom[T any](n number) (t T, ok, decided bool) {
	if ok, decided := n.convertCommon(&t); decided {
		return t, ok, true
	}
	ok, decided = n.convertReflect(reflect.ValueOf(&t).Elem())
	if !ok {
		var zero T
		return zero, false, decided
	}
	return t, true, true
}

// convertCommon stores n in *p, whose type is one of the common ones
// (int, int64, uint64, float64), without reflection: decided is false for
// any other type. On failure *p is left zero.
func (n number) convertCommon(p any) (ok, decided bool) {
	switch p := p.(type) {
	case *int:
		i, ok := n.int64()
		ok = ok && i == int64(int(i))
		if ok {
			*p = int(i)
		}
		return ok, true
	case *int64:
		i, ok := n.int64()
		if ok {
			*p = i
		}
		return ok, true
	case *uint64:
		u, ok := n.uint64()
		if ok {
			*p = u
		}
		return ok, true
	case *float64:
		f, ok := n.float(64)
		if ok {
			*p = f
		}
		return ok, true
	}
	return false, false
}

// convertReflect stores n in rv, a settable value of a numeric kind;
// decided is false when rv's kind is not numeric.
func (n number) convertReflect(rv reflect.Value) (ok, decided bool) {
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := n.int64()
		if ok = ok && !rv.OverflowInt(i); ok {
			rv.SetInt(i)
		}
		return ok, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u, ok := n.uint64()
		if ok = ok && !rv.OverflowUint(u); ok {
			rv.SetUint(u)
		}
		return ok, true
	case reflect.Float32, reflect.Float64:
		f, ok := n.float(rv.Type().Bits())
		if ok = ok && !rv.OverflowFloat(f); ok {
			rv.SetFloat(f)
		}
		return ok, true
	}
	return false, false
}
