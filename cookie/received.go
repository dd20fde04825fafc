package cookie

import "crypto/sha256"

// Received is a cookie value read from a request by ParseReceived, kept
// with the signature it arrived with, so that SerializeReceived can send
// the same value back without computing that signature again: a server
// whose cookie holds a session id sends the id it received on every
// response that saves the session, and the HMAC was the largest cost of
// doing so. The zero Received holds no value.
type Received struct {
	// Value is the decoded value, as ParseSecret returns it.
	Value string
	// Secret is the index in Options.Secrets of the secret that verified
	// Value, as ParseSecret reports it; -1 when none did.
	Secret int

	// c is the Cookie that read it: a Received from another Cookie (other
	// secrets, another name) never lends its signature.
	c *Cookie
	// enc is the encoded value as it arrived, without the signature, and
	// sum the signature that Secrets[0] verified over it; enc is "" when
	// Secrets[0] did not verify it.
	enc string
	sum [sha256.Size]byte
}

// signedBy reports whether r carries a signature by c's Secrets[0].
func (r *Received) signedBy(c *Cookie) bool {
	return r.c == c && r.Secret == 0 && r.enc != ""
}

// ParseReceived is ParseSecret that keeps the verified signature for
// SerializeReceived: r.Value, r.Secret and ok are what ParseSecret returns.
func (c *Cookie) ParseReceived(cookieHeader string) (r Received, ok bool) {
	r.c = c
	r.Value, r.Secret, ok = c.parse(cookieHeader, &r)
	if !ok {
		r.enc = "" // verified, but the value did not decode
	}
	return r, ok
}

// SerializeReceived returns what SerializeMaxAge(r.Value, maxAge) returns.
// When Secrets[0] signed the value as it arrived and its encoding is the
// one this Cookie writes, that signature is sent back instead of a new one
// (HMAC-SHA256 is deterministic, so the line is the same byte for byte);
// otherwise, for an older secret, a lenient Remix encoding or a Received of
// another Cookie, the value is signed anew.
func (c *Cookie) SerializeReceived(r *Received, maxAge int) (string, error) {
	return c.serializeMaxAge(r.Value, maxAge, r)
}
