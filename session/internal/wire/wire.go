// Package wire is the JSON that sessionkit stores: the Remix record
// [values, flash], with an optional third element of metadata that Remix
// ignores, and the Remix cookie-storage payload {"i":id,"d":record}.
//
// It is several times faster than encoding/json on the small maps of
// strings, numbers and booleans that sessions hold, and it writes and reads
// what encoding/json does, with two deliberate differences:
//
//   - Integers stay exact. A whole number written without a fraction or an
//     exponent and beyond ±2^53 (where float64 stops counting in ones)
//     decodes as an int64, or a uint64 above math.MaxInt64, instead of the
//     nearest float64. Every other number decodes as a float64, as
//     encoding/json gives it. The encoder writes Go integers in full, as
//     json.Marshal does, so a snowflake id survives a round trip.
//   - One nesting limit, MaxDepth, binds encoder and decoder, so that what
//     is written can be read back: encoding a value nested deeper fails
//     with ErrTooDeep (a value that holds itself is nested without end).
//
// Otherwise the decoder gives the values that json.Unmarshal into an `any`
// gives (map[string]any, []any, float64, string, bool, nil) and fails where
// it fails; the encoder writes the bytes json.Marshal writes, handing any
// type it does not know (structs, pointers, json.Marshaler) to json.Marshal.
// The differential fuzzers in this package check both claims.
package wire

import (
	"errors"
	"strconv"
)

// MaxDepth is how deeply maps and slices may nest in a session's values
// (and flash values): the values map itself is one level, a map stored in
// it two. encoding/json's decoder stops at the same depth (counting the
// whole document), so a hostile record cannot exhaust the stack.
const MaxDepth = 10000

// ErrTooDeep is the error for a value nested more than MaxDepth levels,
// whether encoding (the save fails, instead of writing a record that would
// read back as corrupt) or decoding.
var ErrTooDeep = errors.New("value nested more than " + strconv.Itoa(MaxDepth) + " levels deep (session.MaxDepth), or holding itself")

// ErrSyntax is wrapped by every decoding error of malformed JSON.
var ErrSyntax = errors.New("invalid JSON")

// ErrBadRecord reports JSON that is not a record [values, flash] (or a
// cookie payload whose "d" is not one).
var ErrBadRecord = errors.New("session: record is not a JSON array [values, flash]")

// Meta is the optional third element of a record: when the session was
// created (for Options.Lifetime) and last saved (for Options.IdleTimeout),
// in Unix milliseconds, 0 being unknown; whether the session was made
// persistent ("remember me"); when its user last proved who they are; the
// user's epoch it was signed in under; the device and network it was last
// used from; and, for the record of an id replaced by RegenerateID under a
// grace window, the sealed id that replaced it. Remix ignores all of it.
type Meta struct {
	Created int64 // "c"
	Saved   int64 // "s"
	// Persist is the session's explicit persistence choice: PersistOn
	// ("p":true), PersistOff ("p":false), or 0 when none was made (the
	// key is absent and the default applies).
	Persist int8 // "p"
	// Auth is when the user last authenticated, in Unix ms; 0: unknown.
	Auth int64 // "a"
	// Epoch is the user's epoch the session was signed in under; 0: none.
	Epoch int64 // "e"
	// Device ("Firefox on Linux") and Network ("203.0.113.0/24") are the
	// client facts of the session's last write; "" when unknown. The
	// decoder drops values longer than MaxFactLen.
	Device  string // "d"
	Network string // "n"
	// Forward is the sealed id of the session that replaced this one
	// (RegenerateID with a grace window), "" for a session record.
	Forward string // "f"
}

// MaxFactLen bounds Meta.Device, Meta.Network and Meta.Forward as the
// decoder reads them: a longer value is dropped.
const MaxFactLen = 80

// The values of Meta.Persist besides 0 (no choice made).
const (
	PersistOn  int8 = 1
	PersistOff int8 = -1
)

// IsZero reports whether m carries nothing (a record Remix wrote).
func (m Meta) IsZero() bool { return m == Meta{} }
