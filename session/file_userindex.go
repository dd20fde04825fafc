package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// File storage's per-user index (Options.UserKey): one index file per user,
// dir/<shard>/u-<hash>, where the shard and the hash come from a
// domain-separated SHA-256 of the user name, so names never appear in paths.
// Each line of the file is "<handle> <record name>", the record name being
// the 64 hex digits of the record's path (shard and file): the index holds no
// session id, so reading it gives no credential. It is written atomically
// (temporary file, rename) under its shard's lock; a call that touches the
// index and records takes the locks of every shard involved, in ascending
// order (so no two such calls deadlock), which makes each SaveIndexed and
// DeleteUserRecords one step for every writer, in this process and, with
// flock, in others. Members whose records are gone or dead are dropped when
// the index is next written.

// userIndexPrefix starts the name of every index file; record names are hex
// digits and temporary files start with a dot, so the sweep tells them apart.
const userIndexPrefix = "u-"

// userIndexFile returns the index file of user and its shard.
func (b *fileBackend) userIndexFile(user string) (string, int) {
	sum := sha256.Sum256([]byte("sessionkit user index\x00" + user))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(b.root, h[:2], userIndexPrefix+h[2:]), int(sum[0])
}

// recordName returns the name of id's record in the index: its path's 64 hex
// digits.
func recordName(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// namePath returns the path and shard of the record an index line names, or
// false for a malformed name.
func (b *fileBackend) namePath(name string) (string, int, bool) {
	if len(name) != 64 || strings.Trim(name, "0123456789abcdef") != "" {
		return "", 0, false
	}
	shard, _ := strconv.ParseUint(name[:2], 16, 8)
	return filepath.Join(b.root, name[:2], name[2:]), int(shard), true
}

// indexMember is one line of an index file.
type indexMember struct{ handle, name string }

// readIndex reads an index file; a missing file is an empty index, and
// malformed lines are skipped.
func readIndex(p string) ([]indexMember, error) {
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []indexMember
	for _, line := range strings.Split(string(data), "\n") {
		h, name, ok := strings.Cut(line, " ")
		if ok && h != "" && len(name) == 64 {
			list = append(list, indexMember{h, name})
		}
	}
	return list, nil
}

// writeIndexLocked replaces the index file p with list, dropping the members
// whose records are gone or dead; an empty index removes the file. The
// caller holds p's shard lock.
func (b *fileBackend) writeIndexLocked(p string, list []indexMember, now time.Time) error {
	var buf []byte
	for _, m := range list {
		rp, _, ok := b.namePath(m.name)
		if !ok {
			continue
		}
		if fi, err := os.Lstat(rp); err != nil || !fi.Mode().IsRegular() || b.dead(fi, now) {
			continue
		}
		buf = append(append(append(append(buf, m.handle...), ' '), m.name...), '\n')
	}
	if len(buf) == 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return b.writeLocked(p, buf, now, false)
}

// lockShards locks the given shards (duplicates allowed) in ascending order,
// creating their directories. The caller must call the returned unlock.
func (b *fileBackend) lockShards(shards []int) (unlock func(), err error) {
	shards = slices.Compact(slices.Sorted(slices.Values(shards)))
	unlocks := make([]func(), 0, len(shards))
	unlock = func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
	for _, s := range shards {
		u, err := b.lockShard(s, true)
		if err != nil {
			unlock()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	return unlock, nil
}

// live reports whether a live record is at p.
func (b *fileBackend) live(p string, now time.Time) (bool, error) {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return fi.Mode().IsRegular() && !b.dead(fi, now), nil
}

// SaveIndexed implements UserIndexBackend.
func (b *fileBackend) SaveIndexed(_ context.Context, c *IndexedSave) error {
	now := b.o.now()
	var shards []int
	var fromPath, toPath, idPath, requirePath string
	var s int
	if c.From != "" {
		fromPath, s = b.userIndexFile(c.From)
		shards = append(shards, s)
	}
	if c.To != "" {
		toPath, s = b.userIndexFile(c.To)
		shards = append(shards, s)
	}
	if c.ID != "" {
		idPath, s = b.locate(c.ID)
		shards = append(shards, s)
	}
	if c.Require != "" {
		requirePath, s = b.locate(c.Require)
		shards = append(shards, s)
	}
	deletes := make([]string, len(c.Delete))
	for i, d := range c.Delete {
		deletes[i], s = b.locate(d.ID)
		shards = append(shards, s)
	}
	unlock, err := b.lockShards(shards)
	if err != nil {
		return err
	}
	err = b.saveIndexedLocked(c, now, fromPath, toPath, idPath, requirePath, deletes)
	unlock()
	if err == nil {
		b.maybeSweep(now)
	}
	return err
}

func (b *fileBackend) saveIndexedLocked(c *IndexedSave, now time.Time, fromPath, toPath, idPath, requirePath string, deletes []string) error {
	if requirePath != "" {
		ok, err := b.live(requirePath, now)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
	}
	if idPath != "" {
		if err := b.writeLocked(idPath, c.Record, now, false); err != nil {
			return err
		}
	}
	for _, p := range deletes {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	gone := func(m indexMember) bool {
		return slices.ContainsFunc(c.Delete, func(d IndexedID) bool { return d.Handle == m.handle }) ||
			c.From != c.To && m.handle == c.Handle
	}
	if fromPath != "" && fromPath != toPath {
		list, err := readIndex(fromPath)
		if err != nil {
			return err
		}
		if err := b.writeIndexLocked(fromPath, slices.DeleteFunc(list, gone), now); err != nil {
			return err
		}
	}
	if toPath != "" {
		list, err := readIndex(toPath)
		if err != nil {
			return err
		}
		if c.From == c.To {
			list = slices.DeleteFunc(list, gone)
		}
		if c.ID != "" && !slices.ContainsFunc(list, func(m indexMember) bool { return m.handle == c.Handle }) {
			list = append(list, indexMember{c.Handle, recordName(c.ID)})
		}
		if err := b.writeIndexLocked(toPath, list, now); err != nil {
			return err
		}
	}
	return nil
}

// UserRecords implements UserIndexBackend. The index file is replaced
// atomically, so it is read without a lock.
func (b *fileBackend) UserRecords(_ context.Context, user string) ([]UserRecord, error) {
	now := b.o.now()
	p, _ := b.userIndexFile(user)
	list, err := readIndex(p)
	if err != nil {
		return nil, err
	}
	recs := make([]UserRecord, 0, len(list))
	for _, m := range list {
		rp, _, ok := b.namePath(m.name)
		if !ok {
			continue
		}
		fi, err := os.Lstat(rp)
		if err != nil || !fi.Mode().IsRegular() || b.dead(fi, now) {
			continue
		}
		data, err := os.ReadFile(rp)
		if err != nil {
			continue // deleted meanwhile
		}
		recs = append(recs, UserRecord{Handle: m.handle, Record: data, Seen: fi.ModTime()})
	}
	return recs, nil
}

// DeleteUserRecords implements UserIndexBackend. It reads the index to learn
// which shards the revoked records are in, locks the index's shard and
// those, and reads the index again under the locks; if a save moved a member
// to a shard it did not lock meanwhile, it starts over with that shard too.
func (b *fileBackend) DeleteUserRecords(_ context.Context, user string, revoke func(string) bool) (int, error) {
	now := b.o.now()
	p, idxShard := b.userIndexFile(user)
	shards := []int{idxShard}
	list, err := readIndex(p)
	if err != nil {
		return 0, err
	}
	for range maxRevokePasses {
		for _, m := range list {
			if _, s, ok := b.namePath(m.name); ok && revoke(m.handle) {
				shards = append(shards, s)
			}
		}
		unlock, err := b.lockShards(shards)
		if err != nil {
			return 0, err
		}
		n, retry, err := b.deleteUserRecordsLocked(p, shards, revoke, now)
		unlock()
		if !retry {
			return n, err
		}
		if list, err = readIndex(p); err != nil {
			return 0, err
		}
	}
	return 0, errors.New("session: file storage: a user's index kept moving to other shards during a revoke; try again")
}

// maxRevokePasses bounds DeleteUserRecords's passes: each one that starts
// over has found a member in a shard it had not locked, which only a save
// racing with it adds.
const maxRevokePasses = 16

// deleteUserRecordsLocked is DeleteUserRecords with the locks of shards held;
// retry: a revoked member is in a shard not locked (nothing was changed).
func (b *fileBackend) deleteUserRecordsLocked(p string, shards []int, revoke func(string) bool, now time.Time) (n int, retry bool, err error) {
	list, err := readIndex(p)
	if err != nil {
		return 0, false, err
	}
	var paths []string
	for _, m := range list {
		rp, s, ok := b.namePath(m.name)
		if !ok || !revoke(m.handle) {
			continue
		}
		if !slices.Contains(shards, s) {
			return 0, true, nil
		}
		paths = append(paths, rp)
	}
	if len(paths) == 0 {
		return 0, false, nil
	}
	for _, rp := range paths {
		if ok, _ := b.live(rp, now); ok {
			n++
		}
		if err := os.Remove(rp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, false, err
		}
	}
	return n, false, b.writeIndexLocked(p, slices.DeleteFunc(list, func(m indexMember) bool { return revoke(m.handle) }), now)
}
