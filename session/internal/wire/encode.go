package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// appendValue appends the JSON encoding of v, byte for byte what
// json.Marshal(v) gives, to dst. depth is how many maps and slices enclose
// v; v may add levels up to MaxDepth, and past it the encoding fails with
// ErrTooDeep, which is also how a map or slice that holds itself ends.
//
// The types that sessions hold (what the decoder gives, and Go's int and
// []string) are handled here; the other numbers one type switch later.
func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendString(dst, v), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case float64:
		return appendFloat(dst, v, 64)
	case int:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case uint64:
		return strconv.AppendUint(dst, v, 10), nil
	case map[string]any:
		return appendObject(dst, v, depth)
	case []any:
		return appendArray(dst, v, depth)
	case []string:
		return appendStrings(dst, v, depth)
	}
	return appendOther(dst, v, depth)
}

// appendOther appends the numbers that appendValue leaves, and hands every
// other type to json.Marshal.
func appendOther(dst []byte, v any, depth int) ([]byte, error) {
	switch v := v.(type) {
	case float32:
		return appendFloat(dst, float64(v), 32)
	case int8:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int16:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case uint16:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	}
	return appendMarshal(dst, v, depth)
}

// appendArray appends a as a JSON array; nil is null.
func appendArray(dst []byte, a []any, depth int) ([]byte, error) {
	if a == nil {
		return append(dst, "null"...), nil
	}
	if depth >= MaxDepth {
		return dst, ErrTooDeep
	}
	dst = append(dst, '[')
	for i, e := range a {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendValue(dst, e, depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

// appendStrings appends a as a JSON array of strings; nil is null.
func appendStrings(dst []byte, a []string, depth int) ([]byte, error) {
	if a == nil {
		return append(dst, "null"...), nil
	}
	if depth >= MaxDepth {
		return dst, ErrTooDeep
	}
	dst = append(dst, '[')
	for i, s := range a {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']'), nil
}

// appendMarshal hands v to json.Marshal, which reports a cycle through
// pointers or maps as an error of its own, and then checks the nesting of
// what it wrote.
func appendMarshal(dst []byte, v any, depth int) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	if depth+nesting(b) > MaxDepth {
		return dst, ErrTooDeep
	}
	return append(dst, b...), nil
}

// nesting returns how deeply objects and arrays nest in the valid JSON b.
func nesting(b []byte) int {
	depth, deepest := 0, 0
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			if depth++; depth > deepest {
				deepest = depth
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// appendObject appends m as a JSON object with sorted keys, as json.Marshal
// does; nil is null. A key's encoding error names the key when m is at the
// top (depth 0).
func appendObject(dst []byte, m map[string]any, depth int) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
	}
	if depth >= MaxDepth {
		return dst, ErrTooDeep
	}
	var keysBuf [fewKeys]string
	dst = append(dst, '{')
	for i, k := range sortedKeys(keysBuf[:0], m) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, m[k], depth+1); err != nil {
			if depth == 0 {
				err = fmt.Errorf("%q: %w", k, err)
			}
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// fewKeys is how many keys appendObject sorts without allocating, by
// insertion sort, which beats the general sort on a session's few keys.
const fewKeys = 16

// sortedKeys appends m's keys to keys, and sorts them.
func sortedKeys(keys []string, m map[string]any) []string {
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) > fewKeys {
		slices.Sort(keys)
		return keys
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// appendFloat formats f as encoding/json does: like ES6, %f in
// [1e-6, 1e21), otherwise %e with a short exponent.
func appendFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, &json.UnsupportedValueError{Str: strconv.FormatFloat(f, 'g', -1, bits)}
	}
	if bits == 64 && isSmallWhole(f) {
		// What sessions mostly hold (ids, counters, read back as
		// float64): its shortest form is its digits, which AppendInt
		// writes without the shortest-float search.
		return strconv.AppendInt(dst, int64(f), 10), nil
	}
	if !useExponent(f, bits) {
		return strconv.AppendFloat(dst, f, 'f', -1, bits), nil
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'e', -1, bits)
	return shortenExponent(dst, start), nil
}

// isSmallWhole reports whether f is a whole number of at most 15 digits,
// and not a negative zero (which is written "-0").
func isSmallWhole(f float64) bool {
	return math.Abs(f) < 1e15 && f == math.Trunc(f) && (f != 0 || !math.Signbit(f))
}

// useExponent reports whether ES6 writes f, of the given bits, with an
// exponent: when it is not 0 and out of [1e-6, 1e21) at its own precision.
func useExponent(f float64, bits int) bool {
	abs := math.Abs(f)
	if bits == 32 {
		return abs != 0 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)
	}
	return abs != 0 && (abs < 1e-6 || abs >= 1e21)
}

// shortenExponent removes the leading zero of a negative two-digit
// exponent (e-09 becomes e-9) from the number that dst holds from start.
func shortenExponent(dst []byte, start int) []byte {
	n := len(dst)
	if n-start >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
		dst[n-2] = dst[n-1]
		dst = dst[:n-1]
	}
	return dst
}

// asciiEscapes is how encoding/json writes each ASCII character inside a
// string, with HTML escaping: "" for the characters written as they are.
var asciiEscapes = func() (esc [utf8.RuneSelf]string) {
	const hex = "0123456789abcdef"
	for c := range 0x20 {
		esc[c] = `\u00` + hex[c>>4:c>>4+1] + hex[c&0xf:c&0xf+1]
	}
	for c, e := range map[byte]string{
		'"': `\"`, '\\': `\\`, '\b': `\b`, '\f': `\f`, '\n': `\n`, '\r': `\r`, '\t': `\t`,
		'<': `\u003c`, '>': `\u003e`, '&': `\u0026`,
	} {
		esc[c] = e
	}
	return esc
}()

// appendString quotes s as encoding/json does, with HTML escaping: <, >
// and & as \u003c, \u003e, \u0026, U+2028 and U+2029 escaped, invalid UTF-8
// as U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if esc := asciiEscapes[c]; esc != "" {
				dst = append(append(dst, s[start:i]...), esc...)
				start = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if esc := runeEscape(r, size); esc != "" {
			dst = append(append(dst, s[start:i]...), esc...)
			start = i + size
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// runeEscape returns how encoding/json writes a non-ASCII character of size
// bytes that it escapes, or "" when it writes it as it is: JavaScript
// reads U+2028 and U+2029 as line ends, and a byte that is not UTF-8 is
// replaced.
func runeEscape(r rune, size int) string {
	switch {
	case r == utf8.RuneError && size == 1:
		return `\ufffd`
	case r == '\u2028':
		return `\u2028`
	case r == '\u2029':
		return `\u2029`
	}
	return ""
}
