package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

var _ = strings.Clone
// appendValueOld appends the JSON encoding of v, byte for byte what
// json.Marshal(v) gives, to dst. depth is how many maps and slices enclose
// v; v may add levels up to MaxDepth, and past it the encoding fails with
// ErrTooDeep, which is also how a map or slice that holds itself ends.
func appendValueOld(dst []byte, v any, depth int) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendStringOld(dst, v), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case float64:
		return appendFloatOld(dst, v, 64)
	case float32:
		return appendFloatOld(dst, float64(v), 32)
	case int:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int8:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int16:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case uint16:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(dst, v, 10), nil
	case map[string]any:
		return appendObjectOld(dst, v, depth)
	case []any:
		if v == nil {
			return append(dst, "null"...), nil
		}
		if depth >= MaxDepth {
			return dst, ErrTooDeep
		}
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValueOld(dst, e, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case []string:
		if v == nil {
			return append(dst, "null"...), nil
		}
		if depth >= MaxDepth {
			return dst, ErrTooDeep
		}
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendStringOld(dst, e)
		}
		return append(dst, ']'), nil
	}
	return appendMarshalOld(dst, v, depth)
}

// appendMarshalOld hands v to json.Marshal, which reports a cycle through
// pointers or maps as an error of its own, and then checks the nestingOld of
// what it wrote.
func appendMarshalOld(dst []byte, v any, depth int) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	if depth+nestingOld(b) > MaxDepth {
		return dst, ErrTooDeep
	}
	return append(dst, b...), nil
}

// nestingOld returns how deeply objects and arrays nest in the valid JSON b.
func nestingOld(b []byte) int {
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

// appendObjectOld appends m as a JSON object with sorted keys, as json.Marshal
// does; nil is null. A key's encoding error names the key when m is at the
// top (depth 0).
func appendObjectOld(dst []byte, m map[string]any, depth int) ([]byte, error) {
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
		dst = appendStringOld(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValueOld(dst, m[k], depth+1); err != nil {
			if depth == 0 {
				err = fmt.Errorf("%q: %w", k, err)
			}
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// appendFloatOld formats f as encoding/json does: like ES6, %f in
// [1e-6, 1e21), otherwise %e with a short exponent.
func appendFloatOld(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, &json.UnsupportedValueError{Str: strconv.FormatFloat(f, 'g', -1, bits)}
	}
	abs := math.Abs(f)
	if bits == 64 && abs < 1e15 && f == math.Trunc(f) && (f != 0 || !math.Signbit(f)) {
		// A whole number, what sessions mostly hold (ids, counters,
		// read back as float64): its shortest form is its digits, which
		// AppendInt writes without the shortest-float search.
		return strconv.AppendInt(dst, int64(f), 10), nil
	}
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(dst) - start
		if n >= 4 && dst[len(dst)-4] == 'e' && dst[len(dst)-3] == '-' && dst[len(dst)-2] == '0' {
			dst[len(dst)-2] = dst[len(dst)-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst, nil
}

const hexDigitsOld = "0123456789abcdef"

// appendStringOld quotes s as encoding/json does, with HTML escaping: <, >
// and & as \u003c, \u003e, \u0026, U+2028 and U+2029 escaped, invalid UTF-8
// as U+FFFD.
func appendStringOld(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigitsOld[c>>4], hexDigitsOld[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigitsOld[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// string decodes a JSON string as encoding/json does: escapes resolved,
// invalid UTF-8 and unpaired surrogates replaced by U+FFFD, control
// characters refused.
func (d *decoder) stringOld() (string, error) {
	d.pos++ // opening quote
	start := d.pos
	data := d.data
	// Fast path: no escapes, ASCII or valid UTF-8.
	for p := start; p < len(data); p++ {
		c := data[p]
		switch {
		case c == '"':
			d.pos = p + 1
			if d.copyStrings {
				return strings.Clone(data[start:p]), nil
			}
			return data[start:p], nil
		case c == '\\':
			return d.slowStringOld(start)
		case c < 0x20:
			d.pos = p
			return "", d.syntaxError("control character in string")
		case c >= utf8.RuneSelf:
			return d.slowStringOld(start)
		}
	}
	d.pos = len(data)
	return "", d.syntaxError("unterminated string")
}

// slowString decodes the string from start (past its opening quote) into a
// new allocation.
func (d *decoder) slowStringOld(start int) (string, error) {
	data := d.data
	b := make([]byte, 0, 32)
	p := start
	for p < len(data) {
		c := data[p]
		switch {
		case c == '"':
			d.pos = p + 1
			return string(b), nil
		case c < 0x20:
			d.pos = p
			return "", d.syntaxError("control character in string")
		case c == '\\':
			p++
			if p >= len(data) {
				d.pos = p
				return "", d.syntaxError("unterminated string")
			}
			switch data[p] {
			case '"', '\\', '/':
				b = append(b, data[p])
				p++
			case 'b':
				b = append(b, '\b')
				p++
			case 'f':
				b = append(b, '\f')
				p++
			case 'n':
				b = append(b, '\n')
				p++
			case 'r':
				b = append(b, '\r')
				p++
			case 't':
				b = append(b, '\t')
				p++
			case 'u':
				r, ok := hex4(data, p+1)
				if !ok {
					d.pos = p
					return "", d.syntaxError("invalid \\u escape")
				}
				p += 5
				if utf16.IsSurrogate(r) {
					if p+1 < len(data) && data[p] == '\\' && data[p+1] == 'u' {
						if r2, ok := hex4(data, p+2); ok {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								b = utf8.AppendRune(b, dec)
								p += 6
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				d.pos = p
				return "", d.syntaxError("invalid escape")
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			p++
		default:
			r, size := utf8.DecodeRuneInString(data[p:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, data[p:p+size]...)
			}
			p += size
		}
	}
	d.pos = len(data)
	return "", d.syntaxError("unterminated string")
}

