package session

import (
	"errors"
	"fmt"
	"strconv"
)

// A record is what a storage keeps for a session: the Remix JSON array
// [values, flash], and, as a third element that Remix ignores, the metadata
// that expiry needs.

// errBadRecord reports a record that is not a [values, flash] array.
var errBadRecord = errors.New("session: record is not a JSON array [values, flash]")

// meta is the optional third element of a record: when the session was
// created (for Options.Lifetime) and last saved (for Options.IdleTimeout),
// in Unix milliseconds.
type meta struct {
	Created int64 // "c"
	Saved   int64 // "s"
}

func (m meta) isZero() bool { return m == meta{} }

// appendRecord appends the JSON record [values, flash] (and the metadata as a
// third element when it is not zero) to dst. Nil maps are written as {}.
func appendRecord(dst []byte, values, flash map[string]any, m meta) ([]byte, error) {
	var err error
	dst = append(dst, '[')
	if dst, err = appendJSONObject(dst, nonNil(values)); err != nil {
		return nil, fmt.Errorf("session: encoding values: %w", err)
	}
	dst = append(dst, ',')
	if dst, err = appendJSONObject(dst, nonNil(flash)); err != nil {
		return nil, fmt.Errorf("session: encoding flash: %w", err)
	}
	if !m.isZero() {
		dst = append(dst, `,{`...)
		sep := false
		if m.Created != 0 {
			dst = append(dst, `"c":`...)
			dst = strconv.AppendInt(dst, m.Created, 10)
			sep = true
		}
		if m.Saved != 0 {
			if sep {
				dst = append(dst, ',')
			}
			dst = append(dst, `"s":`...)
			dst = strconv.AppendInt(dst, m.Saved, 10)
		}
		dst = append(dst, '}')
	}
	return append(dst, ']'), nil
}

var emptyMap = map[string]any{}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return emptyMap
	}
	return m
}

// parseRecord reads a JSON record [values, flash, meta?], as Remix or
// sessionkit wrote it. Missing or null elements are empty; the first two must
// otherwise be objects; later elements are ignored unless the third is the
// metadata object. Values have encoding/json's types (float64 for numbers).
func parseRecord(b []byte) (values, flash map[string]any, m meta, err error) {
	d := jsonDecoder{data: string(b)}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '[' {
		if _, err := decodeJSON(b); err != nil {
			return nil, nil, meta{}, fmt.Errorf("%w: %v", errBadRecord, err)
		}
		return nil, nil, meta{}, errBadRecord
	}
	if values, flash, m, err = d.record(); err != nil {
		return nil, nil, meta{}, err
	}
	if err := d.finish(); err != nil {
		return nil, nil, meta{}, fmt.Errorf("%w: %v", errBadRecord, err)
	}
	return values, flash, m, nil
}

// record reads a record array starting at '['. Empty objects in the first
// two places allocate nothing; the third element, when it is an object, is
// read as metadata.
func (d *jsonDecoder) record() (values, flash map[string]any, m meta, err error) {
	err = d.elements(func(i int) error {
		switch {
		case i < 2 && d.emptyObject():
			return nil
		case i == 2 && d.pos < len(d.data) && d.data[d.pos] == '{':
			var err error
			m, err = d.meta()
			return err
		}
		v, err := d.value()
		if err != nil || i >= 2 || v == nil {
			return err
		}
		o, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("element %d is not an object", i)
		}
		if i == 0 {
			values = o
		} else {
			flash = o
		}
		return nil
	})
	if err != nil {
		return nil, nil, meta{}, fmt.Errorf("%w: %v", errBadRecord, err)
	}
	return values, flash, m, nil
}

// emptyObject consumes "{}" (with optional space inside) if it comes next.
func (d *jsonDecoder) emptyObject() bool {
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return false
	}
	p := d.pos + 1
	for p < len(d.data) && (d.data[p] == ' ' || d.data[p] == '\t' || d.data[p] == '\n' || d.data[p] == '\r') {
		p++
	}
	if p < len(d.data) && d.data[p] == '}' {
		d.pos = p + 1
		return true
	}
	return false
}

// meta reads the metadata object {"c":ms,"s":ms}, ignoring other keys and
// values that are not plain numbers.
func (d *jsonDecoder) meta() (meta, error) {
	var m meta
	err := d.members(func(k string) error {
		if d.pos >= len(d.data) || d.data[d.pos] != '-' && (d.data[d.pos] < '0' || d.data[d.pos] > '9') {
			_, err := d.value()
			return err
		}
		f, err := d.number()
		switch k {
		case "c":
			m.Created = metaInt(f)
		case "s":
			m.Saved = metaInt(f)
		}
		return err
	})
	return m, err
}

func metaInt(f float64) int64 {
	if f < 0 || f > 1<<53 || f != f {
		return 0
	}
	return int64(f)
}
