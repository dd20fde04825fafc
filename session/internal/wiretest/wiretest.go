// Package wiretest holds what the session package's differential tests share:
// the comparison of a value decoded by package wire with what encoding/json
// decodes from the same text.
package wiretest

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
)

// EqualJSON compares a value decoded by package wire with what encoding/json
// decodes with UseNumber: the same maps, slices, strings, booleans and nils,
// and numbers as SameNumber says.
func EqualJSON(got, want any) bool {
	switch w := want.(type) {
	case json.Number:
		return SameNumber(got, string(w))
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range g {
			if !EqualJSON(g[i], w[i]) {
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
			if wv, ok := w[k]; !ok || !EqualJSON(v, wv) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}

// SameNumber reports whether got is how the JSON number literal lit must
// decode: the int64 or uint64 it spells when it is a whole number past ±2^53
// that fits one (where encoding/json, deliberately unlike us, rounds to a
// float64), otherwise the float64 strconv.ParseFloat gives, bit for bit (so
// -0 is not 0).
func SameNumber(got any, lit string) bool {
	const maxExactInt = 1 << 53
	i, ierr := strconv.ParseInt(lit, 10, 64)
	u, uerr := strconv.ParseUint(lit, 10, 64)
	exactInt := ierr == nil && (i > maxExactInt || i < -maxExactInt)
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
