package wire

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

type decoder struct {
	// data is the input as one string, so that strings without escapes
	// can be substrings of it rather than allocations of their own (see
	// shareLimit).
	data string
	pos  int
	// depth counts the open objects and arrays; maxDepth bounds it.
	depth, maxDepth int
	// copyStrings makes every decoded string its own allocation instead of
	// a substring of data.
	copyStrings bool
	// stack collects array elements; each array then gets one exact-size
	// allocation.
	stack []any
}

// shareLimit is the largest input whose decoded strings share its memory.
// A substring keeps the whole input alive for as long as any caller keeps
// it (a user name copied into a cache keeps the record with it), so past
// this size every string is copied and a retained string pins at most
// 4 KiB, the size of a cookie. Below it, copying is not worth its cost, one
// allocation per key and string (BenchmarkParseRecord shows it), a price
// worth paying only where a retained string could pin a large record.
const shareLimit = 4096

func newDecoder(data string, maxDepth int) decoder {
	return decoder{data: data, maxDepth: maxDepth, copyStrings: len(data) > shareLimit}
}

// decode parses data as one JSON value nested at most MaxDepth levels.
func decode(data []byte) (any, error) {
	d := newDecoder(string(data), MaxDepth)
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	return v, d.finish()
}

// finish checks that nothing but white space follows the top-level value.
func (d *decoder) finish() error {
	d.skipSpace()
	if d.pos != len(d.data) {
		return d.syntaxError("after top-level value")
	}
	return nil
}

func (d *decoder) syntaxError(what string) error {
	return &syntaxError{msg: what, offset: d.pos}
}

type syntaxError struct {
	msg     string
	offset  int
	tooDeep bool
}

func (e *syntaxError) Error() string {
	return "invalid JSON at offset " + strconv.Itoa(e.offset) + ": " + e.msg
}

// Is makes errors.Is(err, ErrTooDeep) true for a nesting error.
func (e *syntaxError) Is(target error) bool { return e.tooDeep && target == ErrTooDeep }

func (e *syntaxError) Unwrap() error { return ErrSyntax }

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next byte without consuming it (0 at the end). It does
// not skip white space.
func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *decoder) value() (any, error) {
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
		return d.number()
	}
	return nil, d.syntaxError("unexpected character")
}

func (d *decoder) literal(word string, v any) (any, error) {
	if len(d.data)-d.pos < len(word) || d.data[d.pos:d.pos+len(word)] != word {
		return nil, d.syntaxError("invalid literal")
	}
	d.pos += len(word)
	return v, nil
}

func (d *decoder) object() (any, error) {
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
// member with the decoder just past the key's ':' and any space after it;
// value must read the member's value. Every object reader (maps, record
// metadata, the cookie payload) goes through it.
func (d *decoder) members(value func(key string) error) error {
	more, err := d.open('}')
	for more && err == nil {
		d.skipSpace()
		if d.peek() != '"' {
			return d.syntaxError("expected a string key")
		}
		k, kerr := d.string()
		if kerr != nil {
			return kerr
		}
		d.skipSpace()
		if d.peek() != ':' {
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

func (d *decoder) array() (any, error) {
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
func (d *decoder) elements(value func(i int) error) error {
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
func (d *decoder) open(closing byte) (more bool, err error) {
	if d.depth++; d.depth > d.maxDepth {
		return false, &syntaxError{msg: "nested too deeply", offset: d.pos, tooDeep: true}
	}
	d.pos++ // '{' or '['
	d.skipSpace()
	if d.peek() == closing {
		d.pos++
		d.depth--
		return false, nil
	}
	return true, nil
}

// next reads what follows a member or element: ',' (another follows) or the
// closing bracket (the object or array ends).
func (d *decoder) next(closing byte) (more bool, err error) {
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

// maxExactInt is 2^53: float64 represents every integer up to it exactly,
// and not every one past it.
const maxExactInt = 1 << 53

// smallFloats holds the whole numbers 0..1023 as float64 values already in
// an interface: ids, counters and flags in sessions are mostly small, and
// boxing a float64 allocates. Interface values are immutable, so sharing
// them is safe.
var smallFloats = func() (t [1024]any) {
	for i := range t {
		t[i] = float64(i)
	}
	return t
}()

// number reads a JSON number: a float64, except a whole number written
// without fraction or exponent beyond ±2^53, which is an int64 (a uint64
// above math.MaxInt64) so that it stays exact. Integers outside both
// ranges are the nearest float64, as in encoding/json.
func (d *decoder) number() (any, error) {
	f, big, err := d.float()
	if err != nil || big != nil {
		return big, err
	}
	return boxFloat(f), nil
}

// boxFloat returns f in an interface, without an allocation for the whole
// numbers of smallFloats.
func boxFloat(f float64) any {
	if n := int(f); f >= 0 && f < float64(len(smallFloats)) && float64(n) == f && !math.Signbit(f) {
		return smallFloats[n]
	}
	return f
}

// wholeNumber reads a JSON integer of at most 15 digits (exact in a
// float64, so that its literal is its value), and returns its literal; it
// reads nothing and returns false for any other number (or a malformed
// one), which the caller then reads with value.
func (d *decoder) wholeNumber() (string, bool) {
	start := d.pos
	lit, integer, err := d.scanNumber()
	if err != nil || !integer || len(lit) > 15 {
		d.pos = start
		return "", false
	}
	return lit, true
}

// float reads a JSON number as number does, without boxing it: the
// float64, or the int64 or uint64 of a big whole number in big.
func (d *decoder) float() (f float64, big any, err error) {
	start := d.pos
	lit, integer, err := d.scanNumber()
	if err != nil {
		return 0, nil, err
	}
	if integer {
		// Up to 15 digits, the common case: exact in float64, no strconv.
		if len(lit) <= 15 {
			if n, ok := smallInt(lit); ok {
				if n == 0 && lit[0] == '-' {
					return math.Copysign(0, -1), nil, nil // "-0" stays a negative zero
				}
				return float64(n), nil, nil
			}
		} else if v, ok := bigInt(lit); ok {
			return 0, v, nil
		}
	}
	f, err = strconv.ParseFloat(lit, 64)
	if err != nil {
		return 0, nil, &syntaxError{msg: "number " + lit + " out of range", offset: start}
	}
	return f, nil, nil
}

// scanNumber reads the literal of a JSON number and reports whether it is
// an integer (no fraction, no exponent).
func (d *decoder) scanNumber() (lit string, integer bool, err error) {
	start := d.pos
	p := d.pos
	data := d.data
	if p < len(data) && data[p] == '-' {
		p++
	}
	switch {
	case p < len(data) && data[p] == '0':
		p++ // a leading zero is the whole integer part
	case p < len(data) && '1' <= data[p] && data[p] <= '9':
		p = skipDigits(data, p)
	default:
		d.pos = p
		return "", false, d.syntaxError("invalid number")
	}
	integer = true
	if p < len(data) && data[p] == '.' {
		integer = false
		if p, err = d.digits(p + 1); err != nil {
			return "", false, err
		}
	}
	if p < len(data) && (data[p] == 'e' || data[p] == 'E') {
		integer = false
		p++
		if p < len(data) && (data[p] == '+' || data[p] == '-') {
			p++
		}
		if p, err = d.digits(p); err != nil {
			return "", false, err
		}
	}
	d.pos = p
	return data[start:p], integer, nil
}

// digits returns the position after the digits at p, of which a fraction
// and an exponent need at least one.
func (d *decoder) digits(p int) (int, error) {
	end := skipDigits(d.data, p)
	if end == p {
		d.pos = p
		return p, d.syntaxError("invalid number")
	}
	return end, nil
}

// skipDigits returns the position after the digits that start at p.
func skipDigits(data string, p int) int {
	for p < len(data) && '0' <= data[p] && data[p] <= '9' {
		p++
	}
	return p
}

// smallInt parses an integer literal of at most 15 digits; -0 is left to
// ParseFloat, which keeps its sign.
func smallInt(b string) (int64, bool) {
	neg := false
	if b[0] == '-' {
		neg, b = true, b[1:]
	}
	var n int64
	for i := 0; i < len(b); i++ {
		n = n*10 + int64(b[i]-'0')
	}
	if neg {
		if n == 0 {
			return 0, false // -0 is a float64 negative zero
		}
		n = -n
	}
	return n, true
}

// bigInt parses an integer literal of 16 or more digits: a float64 within
// ±2^53, an int64 or uint64 past it; false when it fits neither.
func bigInt(lit string) (any, bool) {
	if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
		if -maxExactInt <= n && n <= maxExactInt {
			return float64(n), true
		}
		return n, true
	}
	if lit[0] != '-' {
		if u, err := strconv.ParseUint(lit, 10, 64); err == nil {
			return u, true // > math.MaxInt64
		}
	}
	return nil, false
}

// string decodes a JSON string as encoding/json does: escapes resolved,
// invalid UTF-8 and unpaired surrogates replaced by U+FFFD, control
// characters refused.
func (d *decoder) string() (string, error) {
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

// slowString decodes the string from start (past its opening quote) into a
// new allocation.
func (d *decoder) slowString(start int) (string, error) {
	data := d.data
	b := make([]byte, 0, 32)
	for p := start; p < len(data); {
		switch c := data[p]; {
		case c == '"':
			d.pos = p + 1
			return string(b), nil
		case c < 0x20:
			d.pos = p
			return "", d.syntaxError("control character in string")
		case c == '\\':
			var err error
			if b, p, err = d.escape(b, p+1); err != nil {
				return "", err
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

// unescape maps the byte after a backslash to the byte it stands for, for
// every escape but \u; 0 for an invalid escape.
var unescape = [256]byte{
	'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t',
}

// escape appends to b what the escape sequence whose backslash precedes p
// stands for, and returns the position after it.
func (d *decoder) escape(b []byte, p int) ([]byte, int, error) {
	if p >= len(d.data) {
		d.pos = p
		return b, p, d.syntaxError("unterminated string")
	}
	switch c := d.data[p]; {
	case unescape[c] != 0:
		return append(b, unescape[c]), p + 1, nil
	case c == 'u':
		return d.unicodeEscape(b, p)
	}
	d.pos = p
	return b, p, d.syntaxError("invalid escape")
}

// unicodeEscape appends to b the character of the \uXXXX escape whose 'u'
// is at p, and returns the position after it. A UTF-16 surrogate pair of
// two escapes is one character; a surrogate outside a pair is U+FFFD, as
// in encoding/json.
func (d *decoder) unicodeEscape(b []byte, p int) ([]byte, int, error) {
	data := d.data
	r, ok := hex4(data, p+1)
	if !ok {
		d.pos = p
		return b, p, d.syntaxError("invalid \\u escape")
	}
	p += 5
	if !utf16.IsSurrogate(r) {
		return utf8.AppendRune(b, r), p, nil
	}
	if pair, ok := surrogatePair(data, p, r); ok {
		return utf8.AppendRune(b, pair), p + 6, nil
	}
	return utf8.AppendRune(b, utf8.RuneError), p, nil
}

// surrogatePair returns the character that the surrogate r forms with a
// \uXXXX escape at p, if they form one.
func surrogatePair(data string, p int, r rune) (rune, bool) {
	if !strings.HasPrefix(data[p:], `\u`) {
		return 0, false
	}
	r2, ok := hex4(data, p+2)
	if !ok {
		return 0, false
	}
	pair := utf16.DecodeRune(r, r2)
	return pair, pair != utf8.RuneError
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
