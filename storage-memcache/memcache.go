package memcachestorage

import (
	"errors"
	"fmt"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/sessionkit/session"
)

// DefaultKeyPrefix is the key prefix when Options.KeyPrefix is empty, the
// one @remix-run/session-storage-memcache uses.
const DefaultKeyPrefix = "remix:session:"

// DefaultMaxItemSize is the item size limit when Options.MaxItemSize is 0:
// memcached's default (-I 1m).
const DefaultMaxItemSize = 1 << 20

// MaxKeyLength is memcached's limit on the length of a key, in bytes.
const MaxKeyLength = 250

// hashLength is the length of the hex SHA-256 of an id in a key.
const hashLength = 64

// MaxKeyPrefixLength is the longest Options.KeyPrefix: MaxKeyLength less the
// 64 hex digits of the id's SHA-256.
const MaxKeyPrefixLength = MaxKeyLength - hashLength

// minItemSize is the smallest item size limit memcached accepts (-I 1k).
const minItemSize = 1024

// ErrTooLarge is returned (wrapped) by Save when a session's record would not
// fit in a memcache item (Options.MaxItemSize). The message names the size
// and the limit. Nothing is sent to the server then, so the record already
// stored stays as it was. It wraps session.ErrTooLarge, as does the error of
// package session for a record over Options.Session.MaxRecordSize, so
// errors.Is(err, session.ErrTooLarge) holds whichever limit refused the
// session.
var ErrTooLarge = fmt.Errorf("memcachestorage: session too large for a memcache item: %w", session.ErrTooLarge)

// Options configure New. The zero value is valid: the Remix key prefix, a
// 1 MB item limit, and the zero session.Options (the 14-day default
// lifetime, records of at most 1 MiB, strict ids, slog.Default()).
type Options struct {
	// KeyPrefix is prepended to the hex SHA-256 of the session id to form
	// the memcache key. "": DefaultKeyPrefix ("remix:session:", as Remix).
	// It must be printable ASCII without spaces and at most
	// MaxKeyPrefixLength (186) bytes, so that every key is a legal memcache
	// key of at most 250 bytes; New refuses anything else. Use the same
	// prefix as a Remix app to share its sessions.
	KeyPrefix string

	// MaxItemSize is the largest item the servers store, in bytes, key and
	// item header included: memcached's -I option. 0: DefaultMaxItemSize
	// (1 MB, memcached's default). Set it when the servers run with another
	// -I. Save refuses a session whose item would be larger with
	// ErrTooLarge before sending it: memcached deletes the item stored
	// under a key when a set of an item too large for it fails, which would
	// sign the user out. It must be at least 1024 (memcached's smallest
	// -I).
	//
	// Session.MaxRecordSize (1 MiB by default) applies as well: a session
	// over either limit is refused, so the stricter one wins. With the
	// defaults that is the item limit, which also counts the key and the
	// item header. For servers with a larger -I, raise both (or set
	// Session.MaxRecordSize to -1 to leave the item limit alone).
	MaxItemSize int

	// Session configures what every server-side storage takes, which
	// session.NewBackendStorage applies: expiry (IdleTimeout and Lifetime
	// become the items' expiration times; the sliding refresh is one
	// memcache touch), unknown ids, the record size limit (MaxRecordSize,
	// see MaxItemSize), logging and the per-user index (UserKey,
	// MaxUserSessions).
	Session session.Options
}

// New returns a session.Storage that keeps sessions in memcache through
// client, which may list several servers (gomemcache spreads keys over them
// by a hash of the key). The cookie holds only the session id; the item is
// stored under KeyPrefix + hex(SHA-256(id)), with the Remix record
// [values, flash] plus metadata, so a Remix app using
// @remix-run/session-storage-memcache with the same prefix and a single
// server reads the same sessions.
//
// Every write is a compare-and-swap (gets, then cas or add), so concurrent
// saves of one session are merged rather than lost (see the package doc).
// The Storage also implements session.Locking, and with o.Session.UserKey
// set session.UserIndex.
//
// gomemcache takes no context: a context already done fails a call before it
// is sent, and client.Timeout (default 500 ms) bounds each command.
//
// New returns an error for a nil client, a bad KeyPrefix or MaxItemSize,
// and the options session.NewBackendStorage refuses (a negative
// IdleTimeout).
func New(client *memcache.Client, o Options) (session.Storage, error) {
	b, err := newBackend(client, o)
	if err != nil {
		return nil, err
	}
	st, err := session.NewBackendStorage(b, o.Session)
	if err != nil {
		return nil, fmt.Errorf("memcachestorage: %w", err)
	}
	return st, nil
}

func newBackend(client *memcache.Client, o Options) (*backend, error) {
	if client == nil {
		return nil, errors.New("memcachestorage: nil memcache client")
	}
	prefix := o.KeyPrefix
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	if err := checkKeyPrefix(prefix); err != nil {
		return nil, err
	}
	size := o.MaxItemSize
	switch {
	case size == 0:
		size = DefaultMaxItemSize
	case size < minItemSize:
		return nil, fmt.Errorf("memcachestorage: Options.MaxItemSize %d is below memcached's smallest item size limit (%d bytes)", size, minItemSize)
	}
	return &backend{client: client, prefix: prefix, maxItemSize: size, now: time.Now}, nil
}

// checkKeyPrefix accepts what memcached accepts in a key (printable ASCII,
// no space: Remix's /^[\x21-\x7e]*$/) and leaves room for the hash.
func checkKeyPrefix(prefix string) error {
	for i := 0; i < len(prefix); i++ {
		if c := prefix[i]; c < 0x21 || c > 0x7e {
			return fmt.Errorf("memcachestorage: Options.KeyPrefix has byte %#02x at %d: only printable ASCII without spaces is allowed in a memcache key", c, i)
		}
	}
	if len(prefix) > MaxKeyPrefixLength {
		return fmt.Errorf("memcachestorage: Options.KeyPrefix is %d bytes; at most %d fit with the 64-digit hash in memcache's %d-byte key limit", len(prefix), MaxKeyPrefixLength, MaxKeyLength)
	}
	return nil
}
