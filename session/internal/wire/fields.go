package wire

import (
	"maps"
	"math"
	"slices"
	"strings"
)

// Fields is one of a record's top-level objects, a session's values or its
// flash values: key-value pairs sorted by key, each key once. Sessions hold
// a few keys each, and for them a sorted slice beats a map on every count a
// request pays: one allocation instead of two (a map's header and its first
// group of slots, several times the memory of a few keys), no hashing, and
// an encoding in key order (the order json.Marshal writes a map in) without
// sorting; decoding and encoding a record both became markedly faster than
// with the maps this replaced. Lookups are binary searches; Set of a new
// key moves the keys after it, which is linear in the number of keys.
//
// The zero Fields is empty. Values inside (nested objects, arrays) keep
// their encoding/json types, map[string]any and []any.
type Fields []Field

// Field is one key and its value.
type Field struct {
	Key string
	// Value is the value; read it with Val, since a string or a whole
	// number that the decoder read is kept in raw instead, with Value
	// unboxedString{} or unboxedNumber{}.
	Value any
	// raw is a top-level string as the decoder read it, or the literal of
	// a whole number of at most 15 digits (exact in a float64), not boxed
	// in an interface: boxing costs an allocation, which a value that no
	// one reads in the request (most of a session's, most of the time)
	// need not pay. Val boxes it when it is read; an encoding writes it as
	// it came.
	raw string
}

// unboxedString and unboxedNumber are Field.Value for a value kept in
// Field.raw. Boxing a zero-size value costs no allocation.
type (
	unboxedString struct{}
	unboxedNumber struct{}
)

// Val returns the field's value.
func (f Field) Val() any {
	switch f.Value.(type) {
	case unboxedString:
		return f.raw
	case unboxedNumber:
		return boxFloat(literalFloat(f.raw))
	}
	return f.Value
}

// Str returns the field's value when it is a string, without boxing it.
func (f Field) Str() (string, bool) {
	if _, ok := f.Value.(unboxedString); ok {
		return f.raw, true
	}
	s, ok := f.Value.(string)
	return s, ok
}

// Float returns the field's value when it is a float64, without boxing
// it.
func (f Field) Float() (float64, bool) {
	if _, ok := f.Value.(unboxedNumber); ok {
		return literalFloat(f.raw), true
	}
	n, ok := f.Value.(float64)
	return n, ok
}

// literalFloat is the float64 of the literal of a whole number of at most
// 15 digits, as numberField keeps it: "-0" is a negative zero.
func literalFloat(lit string) float64 {
	n, ok := smallInt(lit)
	if !ok {
		return math.Copysign(0, -1)
	}
	return float64(n)
}

// stringField and numberField are the fields of a string and of the
// literal of a whole number of at most 15 digits that the decoder read.
func stringField(key, s string) Field   { return Field{Key: key, Value: unboxedString{}, raw: s} }
func numberField(key, lit string) Field { return Field{Key: key, Value: unboxedNumber{}, raw: lit} }

// search returns where key is, or where it would be inserted. It is written
// out rather than slices.BinarySearchFunc, because Go 1.26 does not inline
// that generic function for Field elements: every probe becomes an
// indirect call of the comparison, and a lookup took markedly longer.
// sort.Search inlines, but then search no longer fits in its callers, and
// lookups were still slower. This loop inlines into Get, Has, Set and
// Delete.
func (f Fields) search(key string) (int, bool) {
	lo, hi := 0, len(f)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if f[m].Key < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(f) && f[lo].Key == key
}

// Get returns the value under key, and whether there is one (which may be
// nil: a JSON null).
func (f Fields) Get(key string) (any, bool) {
	if i, ok := f.search(key); ok {
		return f[i].Val(), true
	}
	return nil, false
}

// Lookup returns the field under key, and whether there is one.
func (f Fields) Lookup(key string) (Field, bool) {
	if i, ok := f.search(key); ok {
		return f[i], true
	}
	return Field{}, false
}

// Has reports whether key is present.
func (f Fields) Has(key string) bool {
	_, ok := f.search(key)
	return ok
}

// Set stores v under key, replacing the value there or inserting the key in
// order.
func (f *Fields) Set(key string, v any) {
	i, ok := f.search(key)
	if ok {
		(*f)[i] = Field{Key: key, Value: v}
		return
	}
	if *f == nil {
		*f = make(Fields, 0, 4)
	}
	*f = slices.Insert(*f, i, Field{Key: key, Value: v})
}

// Delete removes key and reports whether it was there.
func (f *Fields) Delete(key string) bool {
	i, ok := f.search(key)
	if ok {
		*f = slices.Delete(*f, i, i+1)
	}
	return ok
}

// Clone returns a copy of f that shares no memory with it (the values
// themselves are not copied), with room for two more keys; nil for an
// empty f.
func (f Fields) Clone() Fields {
	if len(f) == 0 {
		return nil
	}
	return append(make(Fields, 0, len(f)+2), f...)
}

// Immutable reports whether every value in f is immutable (nil, a string, a
// bool or a number as the decoder gives them), so that sessions may share
// f as long as none of them changes f itself.
func (f Fields) Immutable() bool {
	for _, kv := range f {
		switch kv.Value.(type) {
		case nil, unboxedString, unboxedNumber, string, bool, float64, int64, uint64:
		default:
			return false
		}
	}
	return true
}

// Map returns f as a new map; an empty map (never nil) for an empty f.
func (f Fields) Map() map[string]any {
	m := make(map[string]any, len(f))
	for _, kv := range f {
		m[kv.Key] = kv.Val()
	}
	return m
}

// FieldsOf returns m's keys and values in order; nil for an empty m.
func FieldsOf(m map[string]any) Fields {
	if len(m) == 0 {
		return nil
	}
	f := make(Fields, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		f = append(f, Field{Key: k, Value: m[k]})
	}
	return f
}

// normalize sorts fields decoded in document order by key and removes
// duplicates, keeping the last value given for a key, as json.Unmarshal
// into a map does. Records sessionkit writes are sorted already, so this
// only checks them.
func normalize(f Fields) Fields {
	sorted := true
	for i := 1; i < len(f); i++ {
		if f[i-1].Key >= f[i].Key {
			sorted = false
			break
		}
	}
	if sorted {
		return f
	}
	// Stable: of equal keys, the last one written stays last.
	slices.SortStableFunc(f, func(a, b Field) int { return strings.Compare(a.Key, b.Key) })
	out := f[:0]
	for _, kv := range f {
		if n := len(out); n > 0 && out[n-1].Key == kv.Key {
			out[n-1] = kv
			continue
		}
		out = append(out, kv)
	}
	clear(f[len(out):])
	return out
}
