package main

import (
	"container/list"
	"crypto/sha256"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Throttling failed sign-ins.
//
// Without a limit, a sign-in form answers password guesses as fast as a
// client can send them. The pattern here is the usual one:
//
//   - Count failed sign-ins twice: per account (someone guessing one user's
//     password) and per client (one address trying many accounts, "password
//     spraying"). The client is the connection's address, r.RemoteAddr: the
//     X-Forwarded-For header is written by the client, so it may be trusted
//     only when the app runs behind a proxy it knows, which sets it; this
//     one is not configured with any.
//   - Let a few failures go (a typo, a forgotten password); past them,
//     lock the key out for a while, twice as long after each further
//     failure, up to a cap. While locked, the password is not even checked:
//     the answer is 429 Too Many Requests with Retry-After, and the page
//     says when to try again.
//   - Count unknown account names like known ones, so that the answers
//     do not tell which accounts exist.
//   - A successful sign-in clears the account's count, not the client's:
//     otherwise an attacker with an account of their own could sign into
//     it between guesses at other people's and never be limited.
//   - Keep the counts in memory, in a table of bounded size whose entries
//     are dropped once quiet: never in the session. A session per failed
//     attempt is what a flood of guesses would store otherwise, and a
//     client that drops its cookie would drop its count with it.
//
// A lockout per account lets anyone keep that account from signing in by
// failing on purpose, for at most the cap at a time. A real site adds
// what this example leaves out: a second factor, a CAPTCHA after the first
// lockout, telling the user, a shared store when it runs several processes.

// The limits of the example's sign-in form.
var (
	// accountLimits: a user who mistypes five times waits 30 seconds, then
	// 1, 2, 4, 8 minutes after each further failure, then 15 at most.
	accountLimits = throttleLimits{LockAfter: 5, Lockout: 30 * time.Second, MaxLockout: 15 * time.Minute, Forget: 15 * time.Minute, MaxEntries: 10_000}
	// clientLimits: more failures allowed, since several people may share
	// an address (an office, a mobile carrier's NAT).
	clientLimits = throttleLimits{LockAfter: 20, Lockout: 30 * time.Second, MaxLockout: 15 * time.Minute, Forget: 15 * time.Minute, MaxEntries: 10_000}
)

// throttleLimits configure a throttle.
type throttleLimits struct {
	// LockAfter is how many failures in a row lock a key out: the
	// LockAfter-th starts the first lockout.
	LockAfter int
	// Lockout is how long the first lockout lasts; each further failure
	// doubles it, up to MaxLockout.
	Lockout, MaxLockout time.Duration
	// Forget is how long after its last failure or lockout a key's count
	// is forgotten (back to zero, its entry dropped).
	Forget time.Duration
	// MaxEntries bounds the table: when it is full, the key whose last
	// failure is the oldest is forgotten to make room.
	MaxEntries int
}

// throttle counts failures per key (an account, a client address) and
// locks a key out after too many: see the comment at the top of this file.
// It is safe for concurrent use.
type throttle struct {
	limits throttleLimits
	now    func() time.Time

	mu sync.Mutex
	// keys finds a key's entry; order lists the entries by last failure,
	// oldest first, so that quiet ones are dropped from its front.
	keys  map[string]*list.Element
	order list.List
}

// throttleEntry is the state of one key.
type throttleEntry struct {
	key      string
	failures int       // in a row, since the key was last forgotten
	until    time.Time // end of the lockout; the last failure when not locked
}

func newThrottle(l throttleLimits, now func() time.Time) *throttle {
	return &throttle{limits: l, now: now, keys: make(map[string]*list.Element)}
}

// wait returns how long key is still locked out: 0 when it may try.
func (t *throttle) wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.dropQuiet(now)
	if el, ok := t.keys[key]; ok {
		return max(el.Value.(*throttleEntry).until.Sub(now), 0)
	}
	return 0
}

// fail counts a failure of key and returns the lockout it starts: 0 while
// the key has had fewer than LockAfter failures in a row.
func (t *throttle) fail(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.dropQuiet(now)
	e := t.entry(key)
	t.order.MoveToBack(t.keys[key])
	e.failures++
	lock := t.lockout(e.failures)
	e.until = now.Add(lock)
	return lock
}

// lockout is how long a key is locked out after its n-th failure in a row.
func (t *throttle) lockout(n int) time.Duration {
	l := t.limits
	if n < l.LockAfter {
		return 0
	}
	d := l.Lockout
	for i := l.LockAfter; i < n && d < l.MaxLockout; i++ {
		d *= 2
	}
	return min(d, l.MaxLockout)
}

// reset forgets key's failures: a successful sign-in of the account.
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.keys[key]; ok {
		t.order.Remove(el)
		delete(t.keys, key)
	}
}

// entry returns key's entry, making one (and room for it) when there is
// none.
func (t *throttle) entry(key string) *throttleEntry {
	if el, ok := t.keys[key]; ok {
		return el.Value.(*throttleEntry)
	}
	if len(t.keys) >= t.limits.MaxEntries {
		t.remove(t.order.Front())
	}
	e := &throttleEntry{key: key}
	t.keys[key] = t.order.PushBack(e)
	return e
}

// maxDropsPerCall bounds the work of dropping quiet entries in one call;
// entries still go faster than failures add them.
const maxDropsPerCall = 8

// dropQuiet forgets the keys whose lockout ended (or whose last failure
// was) more than Forget ago, oldest first, a few per call.
func (t *throttle) dropQuiet(now time.Time) {
	for i := 0; i < maxDropsPerCall && t.order.Len() > 0; i++ {
		front := t.order.Front()
		if now.Sub(front.Value.(*throttleEntry).until) < t.limits.Forget {
			return
		}
		t.remove(front)
	}
}

func (t *throttle) remove(el *list.Element) {
	delete(t.keys, el.Value.(*throttleEntry).key)
	t.order.Remove(el)
}

// size is the number of keys the throttle remembers.
func (t *throttle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
}

// signInThrottle is the sign-in form's two throttles: per account and per
// client address.
type signInThrottle struct {
	accounts, clients *throttle
}

func newSignInThrottle(now func() time.Time) *signInThrottle {
	if now == nil {
		now = time.Now
	}
	return &signInThrottle{accounts: newThrottle(accountLimits, now), clients: newThrottle(clientLimits, now)}
}

// wait returns how long a sign-in of account from r's client must wait: 0
// when it may be checked now.
func (s *signInThrottle) wait(account string, r *http.Request) time.Duration {
	return max(s.accounts.wait(accountKey(account)), s.clients.wait(clientKey(r)))
}

// failed counts a failed sign-in and returns the lockout it starts (0:
// none).
func (s *signInThrottle) failed(account string, r *http.Request) time.Duration {
	return max(s.accounts.fail(accountKey(account)), s.clients.fail(clientKey(r)))
}

// succeeded clears the account's failures.
func (s *signInThrottle) succeeded(account string) {
	s.accounts.reset(accountKey(account))
}

// accountKey is the throttle's key for an account name: a hash, so that a
// key is small whatever was typed, and a password typed into the username
// field by mistake is not kept in memory.
func accountKey(name string) string {
	sum := sha256.Sum256([]byte(name))
	return string(sum[:16])
}

// clientKey is the throttle's key for the client of r: its IPv4 address,
// or the /64 network of its IPv6 address, since one IPv6 client usually
// holds a whole /64 and could try from each of its addresses.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		return netip.PrefixFrom(addr, 64).Masked().String()
	}
	return addr.String()
}
