package session

import (
	"encoding/json"
	"math"
	"reflect"
)

// Value returns the session value under key as a T, and whether there is one
// of that type. Values loaded from a storage have JSON types, so Value
// converts: an int stored and read back through JSON (as a float64) comes back
// as an int, a map comes back as a struct. A missing key, a value that does
// not fit T (a fraction for an int, an overflow, a string for a number) gives
// the zero T and false; Value never panics.
func Value[T any](s *Session, key string) (T, bool) {
	var zero T
	v := s.Get(key)
	if v == nil {
		return zero, false
	}
	if t, ok := v.(T); ok {
		return t, true
	}
	if f, ok := v.(float64); ok {
		if t, ok := convertNumber[T](f); ok {
			return t, true
		}
		if isNumberKind(reflect.TypeFor[T]()) {
			return zero, false
		}
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

func isNumberKind(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// convertNumber converts a JSON number to T when T is a numeric kind and the
// value fits exactly.
func convertNumber[T any](f float64) (T, bool) {
	var t T
	rv := reflect.ValueOf(&t).Elem()
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
			return t, false
		}
		i := int64(f)
		if rv.OverflowInt(i) {
			return t, false
		}
		rv.SetInt(i)
		return t, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if f != math.Trunc(f) || f < 0 || f >= 1<<64 {
			return t, false
		}
		u := uint64(f)
		if rv.OverflowUint(u) {
			return t, false
		}
		rv.SetUint(u)
		return t, true
	case reflect.Float32, reflect.Float64:
		if rv.OverflowFloat(f) {
			return t, false
		}
		rv.SetFloat(f)
		return t, true
	}
	return t, false
}
