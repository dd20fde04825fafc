package session

import "github.com/sessionkit/sessionkit/session/internal/wire"

// Data is what a session persists: its values and the flash values for the
// next request. Its JSON form is the Remix record, a two-element array
// [values, flash], which @remix-run/session reads and writes.
type Data struct {
	Values map[string]any
	Flash  map[string]any
}

// MarshalJSON writes [values, flash]; nil maps are written as {}.
func (d Data) MarshalJSON() ([]byte, error) {
	return appendRecord(nil, wire.FieldsOf(d.Values), wire.FieldsOf(d.Flash), meta{})
}

// UnmarshalJSON reads [values, flash], as @remix-run/session writes it. A
// missing or null element is empty; elements after the second (such as the
// metadata sessionkit stores) are ignored.
func (d *Data) UnmarshalJSON(b []byte) error {
	values, flash, _, err := parseRecord(b)
	if err != nil {
		return err
	}
	d.Values, d.Flash = nil, nil
	if len(values) > 0 {
		d.Values = values.Map()
	}
	if len(flash) > 0 {
		d.Flash = flash.Map()
	}
	return nil
}
