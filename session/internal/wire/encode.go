package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
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
	var keysBuf [16]string
	keys := keysBuf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) <= len(keysBuf) {
		// Insertion sort: faster than the general sort for a session's few keys.
		for i := 1; i < len(keys); i++ {
			for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
				keys[j], keys[j-1] = keys[j-1], keys[j]
			}
		}
	} else {
		slices.Sort(keys)
	}
	dst = append(dst, '{')
	for i, k := range keys {
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

const hexDigits = "0123456789abcdef"

// htmlSafe marks the ASCII characters that encoding/json, escaping HTML,
// writes inside a string as they are: all but the control characters, the
// quote, the backslash, and <, > and &.
var htmlSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := range safe {
		safe[c] = c >= 0x20 && !strings.ContainsRune(`"\<>&`, rune(c))
	}
	return safe
}()

// appendString quotes s as encoding/json does, with HTML escaping: <, >
// and & as \u003c, \u003e, \u0026, U+2028 and U+2029 escaped, invalid UTF-8
// as U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if !htmlSafe[c] {
				dst = appendASCIIEscape(append(dst, s[start:i]...), c)
				start = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			dst = appendRuneEscape(append(dst, s[start:i]...), r)
			start = i + size
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendASCIIEscape appends the escape that encoding/json writes for an
// ASCII character that is not htmlSafe.
func appendASCIIEscape(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// appendRuneEscape appends the escape that encoding/json writes for a
// non-ASCII character: U+FFFD for a byte that is not UTF-8 (r is
// utf8.RuneError), and U+2028 and U+2029, which JavaScript reads as line
// ends, escaped.
func appendRuneEscape(dst []byte, r rune) []byte {
	if r == utf8.RuneError {
		return append(dst, `\ufffd`...)
	}
	return append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
}
