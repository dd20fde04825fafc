package wire

import (
	"fmt"
	"strconv"
)

// AppendRecord appends the record [values, flash] to dst, with m as a third
// element when it is not zero. Empty Fields are written as {}. It fails on a
// value that json.Marshal refuses or that nests more than MaxDepth levels
// (ErrTooDeep); the error names the top-level key.
func AppendRecord(dst []byte, values, flash Fields, m Meta) ([]byte, error) {
	var err error
	dst = append(dst, '[')
	if dst, err = AppendValues(dst, values); err != nil {
		return nil, fmt.Errorf("session: encoding values: %w", err)
	}
	dst = append(dst, ',')
	if dst, err = AppendValues(dst, flash); err != nil {
		return nil, fmt.Errorf("session: encoding flash: %w", err)
	}
	if !m.IsZero() {
		dst = appendMeta(append(dst, ','), m)
	}
	return append(dst, ']'), nil
}

// appendMeta appends the metadata object {"c":ms,"s":ms,"p":bool,...} of a
// Meta that is not zero, with only the members that are set.
func appendMeta(dst []byte, m Meta) []byte {
	// Every member is written after a comma, and the first comma then
	// becomes the brace that opens the object: there is at least one.
	open := len(dst)
	if m.Created != 0 {
		dst = strconv.AppendInt(append(dst, `,"c":`...), m.Created, 10)
	}
	if m.Saved != 0 {
		dst = strconv.AppendInt(append(dst, `,"s":`...), m.Saved, 10)
	}
	if m.Persist != 0 {
		dst = strconv.AppendBool(append(dst, `,"p":`...), m.Persist > 0)
	}
	if m.Auth != 0 {
		dst = strconv.AppendInt(append(dst, `,"a":`...), m.Auth, 10)
	}
	if m.Epoch != 0 {
		dst = strconv.AppendInt(append(dst, `,"e":`...), m.Epoch, 10)
	}
	if m.Device != "" {
		dst = appendString(append(dst, `,"d":`...), m.Device)
	}
	if m.Network != "" {
		dst = appendString(append(dst, `,"n":`...), m.Network)
	}
	if m.Forward != "" {
		dst = appendString(append(dst, `,"f":`...), m.Forward)
	}
	dst[open] = '{'
	return append(dst, '}')
}

// AppendValues appends a session's values (or flash values) as a JSON
// object, in key order, the order json.Marshal writes a map in; empty is
// {}. The object is the first of MaxDepth levels. An encoding error names
// the key.
func AppendValues(dst []byte, values Fields) ([]byte, error) {
	dst = append(dst, '{')
	for i, kv := range values {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, kv.Key)
		dst = append(dst, ':')
		switch kv.Value.(type) {
		case unboxedString:
			dst = appendString(dst, kv.raw)
			continue
		case unboxedNumber:
			dst = append(dst, kv.raw...) // a JSON integer literal, as it came
			continue
		}
		var err error
		if dst, err = appendValue(dst, kv.Value, 1); err != nil {
			return dst, fmt.Errorf("%q: %w", kv.Key, err)
		}
	}
	return append(dst, '}'), nil
}

// AppendPayload appends the Remix cookie-storage payload
// {"i":id,"d":record}, the record as AppendRecord writes it.
func AppendPayload(dst []byte, id string, values, flash Fields, m Meta) ([]byte, error) {
	dst = append(dst, `{"i":`...)
	dst = appendString(dst, id)
	dst = append(dst, `,"d":`...)
	dst, err := AppendRecord(dst, values, flash, m)
	if err != nil {
		return nil, err
	}
	return append(dst, '}'), nil
}

// ParseRecord reads a record [values, flash, meta?], as Remix or sessionkit
// wrote it. Missing or null elements are empty; the first two must
// otherwise be objects; later elements are ignored unless the third is the
// metadata object {"c":ms,"s":ms,"p":bool}. Errors wrap ErrBadRecord. Numbers are
// float64, or int64 and uint64 for whole numbers past ±2^53 (see the
// package doc).
func ParseRecord(b []byte) (values, flash Fields, m Meta, err error) {
	return ParseRecordString(string(b))
}

// ParseRecordString is ParseRecord of a record held in a string: decoded
// strings share its memory when it is small (see shareLimit), and nothing is
// copied first.
func ParseRecordString(rec string) (values, flash Fields, m Meta, err error) {
	return parseRecord(newDecoder(rec, MaxDepth+1)) // +1: the array around the values
}

func parseRecord(d decoder) (values, flash Fields, m Meta, err error) {
	d.skipSpace()
	if d.peek() != '[' {
		if _, err := decode([]byte(d.data)); err != nil {
			return nil, nil, Meta{}, fmt.Errorf("%w: %v", ErrBadRecord, err)
		}
		return nil, nil, Meta{}, ErrBadRecord
	}
	if values, flash, m, err = d.record(); err != nil {
		return nil, nil, Meta{}, err
	}
	if err := d.finish(); err != nil {
		return nil, nil, Meta{}, fmt.Errorf("%w: %v", ErrBadRecord, err)
	}
	return values, flash, m, nil
}

// ParsePayload reads the Remix cookie-storage payload {"i":id,"d":record}.
// A missing "i" or one that is not a string gives id "" (the caller
// validates ids); a missing or null "d" gives no data. Other keys are
// ignored. Decoded strings share payload's memory when it is small (see
// shareLimit).
func ParsePayload(payload string) (id string, values, flash Fields, m Meta, err error) {
	d := newDecoder(payload, MaxDepth+2) // the object and the array around the values
	d.skipSpace()
	if d.peek() != '{' {
		return "", nil, nil, Meta{}, fmt.Errorf("%w: cookie storage payload is not a JSON object", ErrBadRecord)
	}
	err = d.members(func(k string) error {
		switch {
		case k == "d" && d.peek() == '[':
			var err error
			values, flash, m, err = d.record()
			return err
		case k == "i" && d.peek() == '"':
			// Read as a string, not boxed in an interface.
			var err error
			id, err = d.string()
			return err
		}
		v, err := d.value()
		switch {
		case err != nil:
		case k == "i":
			id, _ = v.(string)
		case k == "d" && v != nil:
			err = fmt.Errorf("%w: \"d\" is not an array", ErrBadRecord)
		case k == "d":
			values, flash, m = nil, nil, Meta{}
		}
		return err
	})
	if err == nil {
		err = d.finish()
	}
	if err != nil {
		return "", nil, nil, Meta{}, err
	}
	return id, values, flash, m, nil
}

// record reads a record array starting at '['. Empty objects in the first
// two places allocate nothing; the third element, when it is an object, is
// read as metadata.
func (d *decoder) record() (values, flash Fields, m Meta, err error) {
	err = d.elements(func(i int) error {
		switch {
		case i < 2 && d.peek() == '{':
			f, err := d.fields()
			if i == 0 {
				values = f
			} else {
				flash = f
			}
			return err
		case i == 2 && d.peek() == '{':
			var err error
			m, err = d.meta()
			return err
		}
		v, err := d.value()
		if err != nil || i >= 2 || v == nil {
			return err
		}
		return fmt.Errorf("element %d is not an object", i)
	})
	if err != nil {
		return nil, nil, Meta{}, fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	return values, flash, m, nil
}

// fields reads the object at '{' as Fields: nil when it is empty,
// otherwise its members in one allocation, in key order, duplicates
// resolved as json.Unmarshal resolves them.
func (d *decoder) fields() (Fields, error) {
	var buf [8]Field
	fs := buf[:0]
	err := d.members(func(k string) error {
		switch c := d.peek(); {
		case c == '"':
			s, err := d.string()
			fs = append(fs, stringField(k, s))
			return err
		case c == '-' || '0' <= c && c <= '9':
			if lit, ok := d.wholeNumber(); ok {
				fs = append(fs, numberField(k, lit))
				return nil
			}
		}
		v, err := d.value()
		fs = append(fs, Field{Key: k, Value: v})
		return err
	})
	if err != nil || len(fs) == 0 {
		return nil, err
	}
	// Room for two more keys, so that a request setting a key or two
	// (a flash message, a counter) does not copy them all again.
	out := make(Fields, len(fs), len(fs)+2)
	copy(out, fs)
	return normalize(out), nil
}

// meta reads the metadata object {"c":ms,"s":ms,"p":bool,...} (see Meta),
// ignoring other keys, times that are not numbers, a "p" that is not a
// boolean and facts that are not strings of at most MaxFactLen bytes. Numbers
// are read without boxing them in an interface: that would cost two
// allocations a record (a boolean in an interface costs none).
func (d *decoder) meta() (Meta, error) {
	var m Meta
	err := d.members(func(k string) error {
		switch c := d.peek(); {
		case c == '"':
			// A fact: read as a string, not boxed in an interface.
			s, err := d.string()
			m.setString(k, s)
			return err
		case c != '-' && (c < '0' || c > '9'):
			v, err := d.value()
			m.setValue(k, v)
			return err
		}
		start := d.pos
		lit, integer, err := d.scanNumber()
		if err != nil {
			return err
		}
		ms, ok := metaMS(lit, integer)
		if !ok {
			return &syntaxError{msg: "number " + lit + " out of range", offset: start}
		}
		switch k {
		case "c":
			m.Created = ms
		case "s":
			m.Saved = ms
		case "a":
			m.Auth = ms
		case "e":
			m.Epoch = ms
		}
		return nil
	})
	return m, err
}

// setValue sets the member k of m that is neither a number nor a string:
// "p", a boolean.
func (m *Meta) setValue(k string, v any) {
	if b, ok := v.(bool); ok && k == "p" {
		m.Persist = PersistOff
		if b {
			m.Persist = PersistOn
		}
	}
}

// setString sets the fact k of m, a string of at most MaxFactLen bytes.
func (m *Meta) setString(k, s string) {
	if len(s) > MaxFactLen {
		return
	}
	switch k {
	case "d":
		m.Device = s
	case "n":
		m.Network = s
	case "f":
		m.Forward = s
	}
}

// metaMS returns the time in milliseconds that a number literal gives: 0
// (unknown) when it is negative or past 2^53, a fraction truncated. It is
// false only for a number that is out of float64's range, which makes the
// whole record invalid JSON, as in encoding/json.
func metaMS(lit string, integer bool) (int64, bool) {
	if integer && len(lit) <= 15 {
		if n, ok := smallInt(lit); ok {
			return max(n, 0), true
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return 0, false
	}
	if integer && len(lit) > 15 {
		// Whole numbers past 2^53 are exact integers, never the float
		// nearest them: 2^53+1 is out of range, not 2^53.
		if n, err := strconv.ParseInt(lit, 10, 64); err != nil || n > maxExactInt {
			return 0, true
		}
	}
	if f < 0 || f > maxExactInt || f != f {
		return 0, true
	}
	return int64(f), true
}
