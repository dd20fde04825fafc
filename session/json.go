package session

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A JSON codec for session records, several times faster than encoding/json
// on the small maps of strings, numbers and booleans that sessions hold.
// It produces exactly what encoding/json does: the decoder gives the values
// that json.Unmarshal into an `any` gives (map[string]any, []any, float64,
// string, bool, nil) and fails where it fails; the encoder writes the bytes
// that json.Marshal writes, and hands any type it does not know (structs,
// pointers, json.Marshaler) to json.Marshal. FuzzJSONDecode and
// FuzzJSONEncode check both claims against encoding/json.

// maxJSONDepth bounds nesting, as encoding/json does, so a hostile record
// cannot exhaust the stack.
const maxJSONDepth = 10000

var errJSONSyntax = errors.New("invalid JSON")

type jsonDecoder struct {
	// data is the input as one string, so that strings without escapes are
	// substrings of it rather than allocations of their own.
	data  string
	pos   int
	depth int
	// stack collects array elements; each array then gets one exact-size
	// allocation.
	stack []any
}

// decodeJSON parses data as one JSON value.
func decodeJSON(data []byte) (any, error) {
	d := jsonDecoder{data: string(data)}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	return v, d.finish()
}

// finish checks that nothing but white space follows the top-level value.
func (d *jsonDecoder) finish() error {
	d.skipSpace()
	if d.pos != len(d.data) {
		return d.syntaxError("after top-level value")
	}
	return nil
}

func (d *jsonDecoder) syntaxError(what string) error {
	return &jsonError{msg: what, offset: d.pos}
}

type jsonError struct {
	msg    string
	offset int
}

func (e *jsonError) Error() string {
	return "invalid JSON at offset " + strconv.Itoa(e.offset) + ": " + e.msg
}

func (e *jsonError) Unwrap() error { return errJSONSyntax }

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() (any, error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, d.syntaxError("unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, err := d.string()
		if err != nil {
			return nil, err
		}
		return s, nil
	case c == 't':
		return d.literal("true", true)
	case c == 'f':
		return d.literal("false", false)
	case c == 'n':
		return d.literal("null", nil)
	case c == '-' || '0' <= c && c <= '9':
		f, err := d.number()
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return nil, d.syntaxError("unexpected character")
}

func (d *jsonDecoder) literal(word string, v any) (any, error) {
	if len(d.data)-d.pos < len(word) || d.data[d.pos:d.pos+len(word)] != word {
		return nil, d.syntaxError("invalid literal")
	}
	d.pos += len(word)
	return v, nil
}

func (d *jsonDecoder) object() (any, error) {
	m := make(map[string]any, 4)
	err := d.members(func(k string) error {
		v, err := d.value()
		m[k] = v
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// members reads an object from its '{' to its '}', calling value for each
// member with the decoder just past the key's ':'; value must read the
// member's value. Every object reader (maps, record metadata, the cookie
// storage payload) goes through it.
func (d *jsonDecoder) members(value func(key string) error) error {
	more, err := d.open('}')
	for more && err == nil {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return d.syntaxError("expected a string key")
		}
		k, kerr := d.string()
		if kerr != nil {
			return kerr
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return d.syntaxError("expected ':'")
		}
		d.pos++
		d.skipSpace()
		if verr := value(k); verr != nil {
			return verr
		}
		more, err = d.next('}')
	}
	return err
}

func (d *jsonDecoder) array() (any, error) {
	base := len(d.stack)
	err := d.elements(func(int) error {
		v, err := d.value()
		d.stack = append(d.stack, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	a := make([]any, len(d.stack)-base)
	copy(a, d.stack[base:])
	clear(d.stack[base:])
	d.stack = d.stack[:base]
	return a, nil
}

// elements reads an array from its '[' to its ']', calling value with each
// element's index and the decoder at the element; value must read it.
func (d *jsonDecoder) elements(value func(i int) error) error {
	more, err := d.open(']')
	for i := 0; more && err == nil; i++ {
		d.skipSpace()
		if verr := value(i); verr != nil {
			return verr
		}
		more, err = d.next(']')
	}
	return err
}

// open enters the object or array at d.pos and reports whether a member or
// element follows (false for {} or []).
func (d *jsonDecoder) open(closing byte) (more bool, err error) {
	if d.depth++; d.depth > maxJSONDepth {
		return false, d.syntaxError("nested too deeply")
	}
	d.pos++ // '{' or '['
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == closing {
		d.pos++
		d.depth--
		return false, nil
	}
	return true, nil
}

// next reads what follows a member or element: ',' (another follows) or the
// closing bracket (the object or array ends).
func (d *jsonDecoder) next(closing byte) (more bool, err error) {
	d.skipSpace()
	switch {
	case d.pos >= len(d.data):
		return false, d.syntaxError("unexpected end of input")
	case d.data[d.pos] == ',':
		d.pos++
		return true, nil
	case d.data[d.pos] == closing:
		d.pos++
		d.depth--
		return false, nil
	}
	return false, d.syntaxError("expected ',' or '" + string(closing) + "'")
}

func (d *jsonDecoder) number() (float64, error) {
	start := d.pos
	p := d.pos
	data := d.data
	if p < len(data) && data[p] == '-' {
		p++
	}
	switch {
	case p < len(data) && data[p] == '0':
		p++
	case p < len(data) && '1' <= data[p] && data[p] <= '9':
		for p < len(data) && '0' <= data[p] && data[p] <= '9' {
			p++
		}
	default:
		d.pos = p
		return 0, d.syntaxError("invalid number")
	}
	if p < len(data) && data[p] == '.' {
		p++
		if p >= len(data) || data[p] < '0' || data[p] > '9' {
			d.pos = p
			return 0, d.syntaxError("invalid number")
		}
		for p < len(data) && '0' <= data[p] && data[p] <= '9' {
			p++
		}
	}
	if p < len(data) && (data[p] == 'e' || data[p] == 'E') {
		p++
		if p < len(data) && (data[p] == '+' || data[p] == '-') {
			p++
		}
		if p >= len(data) || data[p] < '0' || data[p] > '9' {
			d.pos = p
			return 0, d.syntaxError("invalid number")
		}
		for p < len(data) && '0' <= data[p] && data[p] <= '9' {
			p++
		}
	}
	d.pos = p
	lit := data[start:p]
	// Small integers, the common case, without strconv.
	if len(lit) <= 15 {
		if n, ok := smallInt(lit); ok {
			return float64(n), nil
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return 0, &jsonError{msg: "number " + lit + " out of range", offset: start}
	}
	return f, nil
}

func smallInt(b string) (int64, bool) {
	neg := false
	if b[0] == '-' {
		neg, b = true, b[1:]
	}
	var n int64
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		if n == 0 {
			return 0, false // -0 is a float64 negative zero
		}
		n = -n
	}
	return n, true
}

// string decodes a JSON string as encoding/json does: escapes resolved,
// invalid UTF-8 and unpaired surrogates replaced by U+FFFD, control
// characters refused.
func (d *jsonDecoder) string() (string, error) {
	d.pos++ // opening quote
	start := d.pos
	data := d.data
	// Fast path: no escapes, ASCII or valid UTF-8.
	for p := start; p < len(data); p++ {
		c := data[p]
		switch {
		case c == '"':
			d.pos = p + 1
			return data[start:p], nil
		case c == '\\':
			return d.slowString(start)
		case c < 0x20:
			d.pos = p
			return "", d.syntaxError("control character in string")
		case c >= utf8.RuneSelf:
			return d.slowString(start)
		}
	}
	d.pos = len(data)
	return "", d.syntaxError("unterminated string")
}

func (d *jsonDecoder) slowString(start int) (string, error) {
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

func hex4(data string, p int) (rune, bool) {
	if p+4 > len(data) {
		return 0, false
	}
	var r rune
	for i := p; i < p+4; i++ {
		c := data[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// maxEncodeDepth is how deep appendJSON nests maps and slices itself. Below
// it, json.Marshal takes over: it detects cycles (a map that holds itself)
// and reports them as errors, where plain recursion would exhaust the stack
// and crash the process.
const maxEncodeDepth = 100

// appendJSON appends the JSON encoding of v to dst, byte for byte what
// json.Marshal(v) gives.
func appendJSON(dst []byte, v any) ([]byte, error) { return appendJSONAt(dst, v, 0) }

func appendJSONAt(dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxEncodeDepth {
		return appendMarshal(dst, v)
	}
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendJSONString(dst, v), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case float64:
		return appendJSONFloat(dst, v, 64)
	case float32:
		return appendJSONFloat(dst, float64(v), 32)
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
		return appendJSONObjectAt(dst, v, depth)
	case []any:
		if v == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSONAt(dst, e, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case []string:
		if v == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, e)
		}
		return append(dst, ']'), nil
	}
	return appendMarshal(dst, v)
}

func appendMarshal(dst []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

func appendJSONObject(dst []byte, m map[string]any) ([]byte, error) {
	return appendJSONObjectAt(dst, m, 0)
}

func appendJSONObjectAt(dst []byte, m map[string]any, depth int) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
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
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendJSONAt(dst, m[k], depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// appendJSONFloat formats f as encoding/json does: like ES6, %f in
// [1e-6, 1e21), otherwise %e with a short exponent.
func appendJSONFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, &json.UnsupportedValueError{Str: strconv.FormatFloat(f, 'g', -1, bits)}
	}
	abs := math.Abs(f)
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

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does, with HTML escaping:
// <, > and & as \u003c, \u003e, \u0026, U+2028 and U+2029 escaped, invalid
// UTF-8 as U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
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
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
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
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
