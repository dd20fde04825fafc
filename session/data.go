package session

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Data is what a session persists: its values and the flash values for the
// next request. Its JSON form is the Remix record, a two-element array
// [values, flash], which @remix-run/session reads and writes.
type Data struct {
	Values map[string]any
	Flash  map[string]any
}

// MarshalJSON writes [values, flash]; nil maps are written as {}.
func (d Data) MarshalJSON() ([]byte, error) {
	return appendRecord(nil, d.Values, d.Flash, meta{})
}

// UnmarshalJSON reads [values, flash], as @remix-run/session writes it. A
// missing or null element is empty; elements after the second (such as the
// metadata sessionkit stores) are ignored.
func (d *Data) UnmarshalJSON(b []byte) error {
	values, flash, _, err := parseRecord(b)
	if err != nil {
		return err
	}
	d.Values, d.Flash = values, flash
	return nil
}

// errBadRecord reports a record that is not a [values, flash] array.
var errBadRecord = errors.New("session: record is not a JSON array [values, flash]")

// meta is the optional third element of a record: when the session was
// created (for Options.Lifetime) and last saved (for Options.IdleTimeout),
// in Unix milliseconds. Remix ignores it.
type meta struct {
	Created int64 `json:"c,omitempty"`
	Saved   int64 `json:"s,omitempty"`
}

func (m meta) isZero() bool { return m == meta{} }

// appendRecord appends the JSON record [values, flash] (and the metadata as a
// third element when it is not zero) to dst.
func appendRecord(dst []byte, values, flash map[string]any, m meta) ([]byte, error) {
	if values == nil {
		values = map[string]any{}
	}
	if flash == nil {
		flash = map[string]any{}
	}
	var rec []any
	if m.isZero() {
		rec = []any{values, flash}
	} else {
		rec = []any{values, flash, m}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("session: encoding data: %w", err)
	}
	return append(dst, b...), nil
}

// parseRecord reads a JSON record [values, flash, meta?]. Values decode with
// encoding/json's types (float64 for numbers).
func parseRecord(b []byte) (values, flash map[string]any, m meta, err error) {
	var arr []any
	if err := json.Unmarshal(b, &arr); err != nil {
		return nil, nil, meta{}, fmt.Errorf("%w: %v", errBadRecord, err)
	}
	if arr == nil {
		return nil, nil, meta{}, errBadRecord
	}
	obj := func(i int) (map[string]any, error) {
		if i >= len(arr) || arr[i] == nil {
			return nil, nil
		}
		o, ok := arr[i].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: element %d is not an object", errBadRecord, i)
		}
		return o, nil
	}
	if values, err = obj(0); err != nil {
		return nil, nil, meta{}, err
	}
	if flash, err = obj(1); err != nil {
		return nil, nil, meta{}, err
	}
	if mo, _ := obj(2); mo != nil {
		m.Created = metaInt(mo["c"])
		m.Saved = metaInt(mo["s"])
	}
	return values, flash, m, nil
}

func metaInt(v any) int64 {
	f, ok := v.(float64)
	if !ok || f < 0 || f > 1<<53 {
		return 0
	}
	return int64(f)
}
