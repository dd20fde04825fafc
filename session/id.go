package session

import (
	"crypto/rand"
	"encoding/base64"
	"io"
)

// idBytes is the entropy of a session id: 256 bits, twice what OWASP and
// ASVS ask for, so ids can neither be guessed nor collide.
const idBytes = 32

// maxIDLen bounds an id read from a cookie. Our ids are 43 characters and
// Remix's UUIDs 36; anything much longer is not an id.
const maxIDLen = 128

// randReader is the source of ids; tests replace it to check it is used.
var randReader io.Reader = rand.Reader

// newID returns 32 bytes from crypto/rand as 43 characters of unpadded
// base64url.
func newID() string {
	var b [idBytes]byte
	if _, err := io.ReadFull(randReader, b[:]); err != nil {
		// crypto/rand does not fail on supported systems; a session with a
		// predictable id would be worse than stopping.
		panic("session: reading random bytes for an id: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidID reports whether id can be a session id: 1 to 128 characters of
// [A-Za-z0-9_-]. Storages check ids from cookies with it before any backend
// call, so that no path, key or query ever sees a hostile id.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !idChar[id[i]] {
			return false
		}
	}
	return true
}

// idChar tells the bytes of [A-Za-z0-9_-], the alphabet of ids.
var idChar = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = true
	}
	return t
}()
