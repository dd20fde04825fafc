package session

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The per-user index document: what a Backend stores under IndexKey(user).
// It is text, one line per member after a header line:
//
//	sessionkit-index 1
//	epoch <n>
//	cut <ms>
//	<handle> <state> <added> <expires> <key>
//
// The epoch line is there once the user's epoch was bumped (epoch.go), the
// cut line once a RevokeAll or a Bump ended the user's other sessions: the
// grace windows of the ids rotated before it (grace.go) end there.
// handle is the session's handle (handleOf; never the id), state "-" for a
// live member or "r" for one a revoke marked, added and expires are Unix
// milliseconds (expires 0: no lifetime limit), and key is the backend's key
// of the record (Backend.Key), the rest of the line. The format belongs to
// this package; backends store the bytes.

const indexHeader = "sessionkit-index 1"

// indexMember is one session in a user's index.
type indexMember struct {
	handle  string
	key     string
	added   int64 // Unix ms
	expires int64 // Unix ms, the end of its lifetime; 0: none
	revoked bool
}

// indexDoc is a user's index document.
type indexDoc struct {
	epoch   int64 // the user's epoch (epoch.go); 0 until a Bump
	cut     int64 // Unix ms of the last RevokeAll or Bump (grace.go); 0: none
	members []indexMember
}

// DefaultMaxUserSessions is how many sessions one user's index holds when
// Options.MaxUserSessions is 0.
const DefaultMaxUserSessions = 200

// LimitPolicy is what a sign-in past Options.MaxUserSessions does
// (Options.UserLimit).
type LimitPolicy uint8

const (
	// LimitEndOldest ends the user's sessions that signed in first (the
	// default).
	LimitEndOldest LimitPolicy = iota
	// LimitEndLeastRecent ends the user's sessions saved least recently
	// (SessionInfo.LastSeen).
	LimitEndLeastRecent
	// LimitRefuse ends none: the sign-in's Save fails with an error
	// wrapping ErrUserLimit, and nothing of it is stored.
	LimitRefuse
)

// ErrUserLimit is wrapped by the error of a Save that signs a user in past
// Options.MaxUserSessions under LimitRefuse. Nothing was stored: the
// session is as it was before the sign-in. The session middleware answers
// it with 409 Conflict unless the handler saved the session itself and
// handled it (see sessionmiddleware.Options.ErrorHandler).
var ErrUserLimit = errors.New("session: the user has as many sessions as Options.MaxUserSessions allows")

// maxUserSessions is the cap of a user's index under o, after WithDefaults:
// 0 for none.
func (o *Options) maxUserSessions() int { return max(o.MaxUserSessions, 0) }

// errIndexSyntax is wrapped by parseIndexDoc's error.
var errIndexSyntax = errors.New("malformed index document")

// parseIndexDoc reads an index document. Lines that do not parse are
// skipped, so that one damaged line does not hide the members after it
// (a member left out could not be revoked), and reported in the error; a
// document without the header has no members.
func parseIndexDoc(data []byte) (indexDoc, error) {
	var d indexDoc
	header, rest, _ := bytes.Cut(data, []byte("\n"))
	if string(header) != indexHeader {
		return d, fmt.Errorf("%w: no header", errIndexSyntax)
	}
	bad := 0
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		if n, ok, valid := counterLine(line, "epoch "); ok {
			d.epoch = max(d.epoch, n)
			bad += btoi(!valid)
			continue
		}
		if n, ok, valid := counterLine(line, "cut "); ok {
			d.cut = max(d.cut, n)
			bad += btoi(!valid)
			continue
		}
		if m, ok := parseIndexLine(string(line)); ok {
			d.members = append(d.members, m)
		} else {
			bad++
		}
	}
	if bad > 0 {
		return d, fmt.Errorf("%w: %d lines skipped", errIndexSyntax, bad)
	}
	return d, nil
}

// counterLine reads a line "<prefix><n>": ok when it has the prefix,
// valid when n is a number of at least 0 (else n is 0).
func counterLine(line []byte, prefix string) (n int64, ok, valid bool) {
	rest, ok := bytes.CutPrefix(line, []byte(prefix))
	if !ok {
		return 0, false, false
	}
	n, err := strconv.ParseInt(string(rest), 10, 64)
	if err != nil || n < 0 {
		return 0, true, false
	}
	return n, true, true
}

func parseIndexLine(line string) (indexMember, bool) {
	var m indexMember
	var f [4]string
	for i := range f {
		var ok bool
		if f[i], line, ok = strings.Cut(line, " "); !ok {
			return m, false
		}
	}
	added, err1 := strconv.ParseInt(f[2], 10, 64)
	expires, err2 := strconv.ParseInt(f[3], 10, 64)
	if f[0] == "" || line == "" || err1 != nil || err2 != nil || (f[1] != "-" && f[1] != "r") {
		return m, false
	}
	return indexMember{handle: f[0], key: line, added: added, expires: expires, revoked: f[1] == "r"}, true
}

// append appends the document's encoding to dst.
func (d *indexDoc) append(dst []byte) []byte {
	dst = append(dst, indexHeader...)
	dst = append(dst, '\n')
	if d.epoch > 0 {
		dst = strconv.AppendInt(append(dst, "epoch "...), d.epoch, 10)
		dst = append(dst, '\n')
	}
	if d.cut > 0 {
		dst = strconv.AppendInt(append(dst, "cut "...), d.cut, 10)
		dst = append(dst, '\n')
	}
	for _, m := range d.members {
		dst = append(dst, m.handle...)
		if m.revoked {
			dst = append(dst, " r "...)
		} else {
			dst = append(dst, " - "...)
		}
		dst = strconv.AppendInt(dst, m.added, 10)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, m.expires, 10)
		dst = append(dst, ' ')
		dst = append(dst, m.key...)
		dst = append(dst, '\n')
	}
	return dst
}

func (m *indexMember) expiredAt(now time.Time) bool {
	return m.expires > 0 && now.UnixMilli() >= m.expires
}

// memberState is what an index document says of a handle.
type memberState uint8

const (
	memberAbsent  memberState = iota // not a member
	memberLive                       // a member no revoke marked
	memberRevoked                    // a member a revoke marked
)

// state returns what d says of handle.
func (d *indexDoc) state(handle string) memberState {
	for _, m := range d.members {
		if m.handle == handle {
			if m.revoked {
				return memberRevoked
			}
			return memberLive
		}
	}
	return memberAbsent
}

// member returns the member with handle, and whether there is one.
func (d *indexDoc) member(handle string) (indexMember, bool) {
	for _, m := range d.members {
		if m.handle == handle {
			return m, true
		}
	}
	return indexMember{}, false
}

// live reports whether handle is a member that no revoke marked.
func (d *indexDoc) live(handle string) bool { return d.state(handle) == memberLive }

// add makes m a member, unless its handle is one already (live or
// revoked: a revoked member stays revoked). It reports whether it changed
// the document.
func (d *indexDoc) add(m indexMember) bool {
	if slices.ContainsFunc(d.members, func(o indexMember) bool { return o.handle == m.handle }) {
		return false
	}
	d.members = append(d.members, m)
	return true
}

// remove removes the members drop chooses and returns how many.
func (d *indexDoc) remove(drop func(*indexMember) bool) int {
	n := len(d.members)
	d.members = slices.DeleteFunc(d.members, func(m indexMember) bool { return drop(&m) })
	return n - len(d.members)
}

// prune removes the members past their lifetime: their records are gone
// or are no longer sessions.
func (d *indexDoc) prune(now time.Time) {
	d.remove(func(m *indexMember) bool { return m.expiredAt(now) })
}

// liveCount is how many members no revoke marked and whose lifetime has not
// ended at now.
func (d *indexDoc) liveCount(now time.Time) int {
	n := 0
	for i := range d.members {
		if m := &d.members[i]; !m.revoked && !m.expiredAt(now) {
			n++
		}
	}
	return n
}

// revokeFirst marks revoked n of the members listed in live (n <= 0:
// none): those without a record first, then by policy the least recently
// seen or the oldest sign-ins; and returns how many it marked. The save that added the newest
// member ends them (endRevoked).
func (d *indexDoc) revokeFirst(live []liveMember, n int, policy LimitPolicy) int {
	if n <= 0 {
		return 0
	}
	key := func(l liveMember) int64 { return l.added }
	if policy == LimitEndLeastRecent {
		key = func(l liveMember) int64 { return l.seen }
	}
	slices.SortStableFunc(live, func(a, b liveMember) int {
		// Members without a record hold nothing: they go first.
		if a.pending != b.pending {
			return cmp.Compare(btoi(b.pending), btoi(a.pending))
		}
		return cmp.Or(cmp.Compare(key(a), key(b)), cmp.Compare(a.added, b.added))
	})
	n = min(n, len(live))
	for _, l := range live[:n] {
		for i := range d.members {
			if m := &d.members[i]; m.handle == l.handle {
				m.revoked = true
			}
		}
	}
	return n
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
