package session

import "github.com/sessionkit/sessionkit/session/internal/wire"

// A record is what a storage keeps for a session: the Remix JSON array
// [values, flash], and, as a third element that Remix ignores, the metadata
// that expiry needs. Package wire encodes and decodes it.

// MaxDepth is how deeply maps and slices may nest in a session: the
// session's values are the first level, so a value stored with Set may nest
// MaxDepth-1 levels of maps and slices, itself included. The record decoder
// accepts no more, so Save refuses what could not be read back.
const MaxDepth = wire.MaxDepth

// ErrTooDeep is wrapped by the error of a Save whose values (or flash
// values) nest more than MaxDepth levels, or hold themselves (a map that
// contains itself nests without end). The stored session is left as it was.
var ErrTooDeep = wire.ErrTooDeep

// meta is a record's metadata (wire.Meta): when the session was created
// (for Options.Lifetime) and last saved (for Options.IdleTimeout), in Unix
// milliseconds, its persistence choice (see persist.go), its user's last
// authentication (auth.go) and epoch (epoch.go), the client facts of its
// last write (client.go), and for a forwarding record the sealed id that
// replaced it (grace.go).
type meta = wire.Meta

// fields is a session's values, or its flash values: key-value pairs in key
// order (wire.Fields), which cost a request less than a map.
type fields = wire.Fields

// appendRecord appends the JSON record [values, flash] (and the metadata as a
// third element when it is not zero) to dst. Empty fields are written as {}.
func appendRecord(dst []byte, values, flash fields, m meta) ([]byte, error) {
	return wire.AppendRecord(dst, values, flash, wire.Meta(m))
}

// parseRecord reads a JSON record [values, flash, meta?], as Remix or
// sessionkit wrote it. Missing or null elements are empty; the first two must
// otherwise be objects; later elements are ignored unless the third is the
// metadata object. Numbers are float64, except whole numbers beyond ±2^53,
// which are int64 or uint64 so that they stay exact (see Value).
func parseRecord(b []byte) (values, flash fields, m meta, err error) {
	return parseRecordString(string(b))
}

// parseRecordString is parseRecord of a record held in a string, which
// the decoded strings share instead of a copy of their own.
func parseRecordString(rec string) (values, flash fields, m meta, err error) {
	values, flash, wm, err := wire.ParseRecordString(rec)
	return values, flash, meta(wm), err
}

// appendPayload appends cookie storage's value, the Remix payload
// {"i":id,"d":[values,flash,meta]}, to dst.
func appendPayload(dst []byte, id string, values, flash fields, m meta) ([]byte, error) {
	return wire.AppendPayload(dst, id, values, flash, wire.Meta(m))
}

// parsePayload reads the Remix cookie-storage value {"i":id,"d":record}.
// A missing "i" or one that is not a string gives id ""; a missing or null
// "d" gives no data. Other keys are ignored.
func parsePayload(payload string) (id string, values, flash fields, m meta, err error) {
	id, values, flash, wm, err := wire.ParsePayload(payload)
	return id, values, flash, meta(wm), err
}
