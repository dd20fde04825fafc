package session

import (
	"github.com/sessionkit/sessionkit/session/internal/wire"
	"net/netip"

	"context"
	"reflect"
	"testing"
	"time"
)

// TestDecideSave covers the save rule case by case: for a session state and
// a store's powers, what is deleted, written, touched, and which cookie goes
// out.
func TestDecideSave(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	created := now.Add(-time.Hour)
	idle := Options{IdleTimeout: 30 * time.Minute, Lifetime: -1}
	life := Options{Lifetime: 2 * time.Hour}
	none := Options{Lifetime: -1}
	server := storeCaps{}
	touch := storeCaps{touch: true}
	client := storeCaps{clientSide: true}

	loaded := saveSnapshot{id: "a", originalID: "a", stored: true, created: created, saved: now.Add(-time.Minute), written: now.Add(-time.Minute)}
	with := func(s saveSnapshot, f func(*saveSnapshot)) saveSnapshot { f(&s); return s }
	dirty := with(loaded, func(s *saveSnapshot) { s.dirty = true })
	fresh := saveSnapshot{id: "n", originalID: "n", dirty: true}
	regenerated := with(dirty, func(s *saveSnapshot) { s.id, s.deleteID, s.deletes = "b", "a", []string{"a"} })
	destroyed := with(loaded, func(s *saveSnapshot) { s.destroyed = true; s.deletes = []string{"a"} })
	destroyedNew := saveSnapshot{id: "n", originalID: "n", destroyed: true}
	refreshDue := with(loaded, func(s *saveSnapshot) { s.saved = now.Add(-10 * time.Minute) })
	expired := with(dirty, func(s *saveSnapshot) { s.created = now.Add(-3 * time.Hour) })
	expiredRegenerated := with(regenerated, func(s *saveSnapshot) { s.created = now.Add(-3 * time.Hour) })
	persistentDue := with(refreshDue, func(s *saveSnapshot) { s.persistent = true })

	tests := []struct {
		name string
		s    saveSnapshot
		o    Options
		c    storeCaps
		want savePlan
	}{
		{"unchanged: nothing", loaded, idle, touch,
			savePlan{ttl: 30 * time.Minute, created: created}},
		{"unchanged, no expiry: nothing", loaded, none, server,
			savePlan{created: created}},
		{"new session: write, cookie, created now", fresh, life, server,
			savePlan{write: writeRecord, ttl: 2 * time.Hour, cookie: cookieSet, mark: markSaved, created: now}},
		{"loaded and changed: write", dirty, life, server,
			savePlan{write: writeRecord, ttl: time.Hour, cookie: cookieSet, mark: markSaved, created: created}},
		{"loaded and changed, Toucher: write", dirty, life, touch,
			savePlan{write: writeRecord, ttl: time.Hour, cookie: cookieSet, mark: markSaved, created: created}},
		{"regenerated: write the new id, then delete the original", regenerated, life, server,
			savePlan{write: writeRecord, deletes: []string{"a"}, ttl: time.Hour, cookie: cookieSet, mark: markSaved, created: created}},
		{"destroyed: delete, expire the cookie", destroyed, life, touch,
			savePlan{deletes: []string{"a"}, ttl: time.Hour, cookie: cookieExpire, mark: markSaved, created: created}},
		{"destroyed before any save: expire the cookie only", destroyedNew, life, touch,
			savePlan{ttl: 2 * time.Hour, cookie: cookieExpire, mark: markSaved, created: now}},
		{"past its lifetime: delete the original, expire the cookie", expired, life, server,
			savePlan{deletes: []string{"a"}, cookie: cookieExpire, mark: markSaved, created: now.Add(-3 * time.Hour)}},
		{"regenerated past its lifetime: delete the original once", expiredRegenerated, life, server,
			savePlan{deletes: []string{"a"}, cookie: cookieExpire, mark: markSaved, created: now.Add(-3 * time.Hour)}},
		{"refresh due, Toucher: touch, no cookie", refreshDue, idle, touch,
			savePlan{write: writeTouch, refresh: true, ttl: 30 * time.Minute, mark: markRefresh, created: created}},
		{"refresh due, plain backend: rewrite, no cookie", refreshDue, idle, server,
			savePlan{write: writeRecord, refresh: true, ttl: 30 * time.Minute, mark: markRefresh, created: created}},
		{"refresh not due yet: nothing", loaded, idle, server,
			savePlan{ttl: 30 * time.Minute, created: created}},
		{"refresh due, Toucher, the client moved: rewrite, no cookie", with(refreshDue, func(s *saveSnapshot) {
			s.client, s.network = Client{Addr: netip.MustParseAddr("198.51.100.1")}, "203.0.113.0/24"
		}), idle, touch,
			savePlan{write: writeRecord, refresh: true, ttl: 30 * time.Minute, mark: markRefresh, created: created}},
		{"refresh due, Toucher, the same client: touch", with(refreshDue, func(s *saveSnapshot) {
			s.client, s.network = Client{Addr: netip.MustParseAddr("203.0.113.9")}, "203.0.113.0/24"
		}), idle, touch,
			savePlan{write: writeTouch, refresh: true, ttl: 30 * time.Minute, mark: markRefresh, created: created}},
		{"loaded through a replaced id, unchanged: the cookie of its own id", with(loaded, func(s *saveSnapshot) { s.forwarded = true }), idle, touch,
			savePlan{ttl: 30 * time.Minute, cookie: cookieSet, created: created}},
		{"loaded through a replaced id, destroyed: expire the cookie", with(destroyed, func(s *saveSnapshot) { s.forwarded = true }), idle, touch,
			savePlan{deletes: []string{"a"}, ttl: 30 * time.Minute, cookie: cookieExpire, mark: markSaved, created: created}},
		{"refresh of a never-stored session: nothing", with(refreshDue, func(s *saveSnapshot) { s.stored = false }), idle, server,
			savePlan{ttl: 30 * time.Minute, created: created}},

		// A persistent session's cookie has a Max-Age, so its refresh
		// sends the cookie again; nothing else changes.
		{"persistent, refresh due, Toucher: touch and cookie", persistentDue, idle, touch,
			savePlan{write: writeTouch, refresh: true, ttl: 30 * time.Minute, cookie: cookieSet, mark: markRefresh, created: created}},
		{"persistent, refresh due, plain backend: rewrite and cookie", persistentDue, idle, server,
			savePlan{write: writeRecord, refresh: true, ttl: 30 * time.Minute, cookie: cookieSet, mark: markRefresh, created: created}},
		{"persistent, refresh not due: nothing", with(loaded, func(s *saveSnapshot) { s.persistent = true }), idle, touch,
			savePlan{ttl: 30 * time.Minute, created: created}},
		{"persistent, no idle timeout: nothing", persistentDue, life, touch,
			savePlan{ttl: time.Hour, created: created}},
		{"persistent, destroyed: delete, expire the cookie", with(destroyed, func(s *saveSnapshot) { s.persistent = true }), life, touch,
			savePlan{deletes: []string{"a"}, ttl: time.Hour, cookie: cookieExpire, mark: markSaved, created: created}},
		{"cookie: persistent, refresh due: rewrite the cookie", persistentDue, idle, client,
			savePlan{write: writeRecord, ttl: 30 * time.Minute, cookie: cookieSet, mark: markSaved, created: created}},

		{"cookie: unchanged: nothing", loaded, idle, client,
			savePlan{ttl: 30 * time.Minute, created: created}},
		{"cookie: changed: write the cookie", dirty, life, client,
			savePlan{write: writeRecord, ttl: time.Hour, cookie: cookieSet, mark: markSaved, created: created}},
		{"cookie: refresh due: rewrite the cookie", refreshDue, idle, client,
			savePlan{write: writeRecord, ttl: 30 * time.Minute, cookie: cookieSet, mark: markSaved, created: created}},
		{"cookie: regenerated: write, warn, nothing to delete", regenerated, life, client,
			savePlan{write: writeRecord, ttl: time.Hour, cookie: cookieSet, mark: markSaved, created: created, warnUndeletable: true}},
		{"touch store, refresh due, last write half the idle timeout ago: rewrite instead of touch",
			with(refreshDue, func(s *saveSnapshot) { s.written = now.Add(-15 * time.Minute) }), idle, touch,
			savePlan{write: writeRecord, refresh: true, ttl: 30 * time.Minute, mark: markRefresh, created: created}},
		{"touch store, refresh due, a record without a save time (Remix wrote it): touch, never rewrite",
			with(refreshDue, func(s *saveSnapshot) { s.written = time.Time{} }), idle, touch,
			savePlan{write: writeTouch, refresh: true, ttl: 30 * time.Minute, mark: markRefresh, created: created}},
		{"cookie: destroyed: expire, nothing to delete", destroyed, life, client,
			savePlan{ttl: time.Hour, cookie: cookieExpire, mark: markSaved, created: created}},
		{"cookie: past its lifetime: expire", expired, life, client,
			savePlan{cookie: cookieExpire, mark: markSaved, created: now.Add(-3 * time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o.WithDefaults()
			got := decideSave(&tt.s, now, &o, tt.c)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decideSave\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// The plan encodes a record only when it writes one.
func TestSavePlanEncodes(t *testing.T) {
	for op, want := range map[writeOp]bool{writeNone: false, writeRecord: true, writeTouch: false} {
		if got := (&savePlan{write: op}).encodes(); got != want {
			t.Errorf("write %d: encodes() = %v, want %v", op, got, want)
		}
	}
}

// Issue 8.5: the cookie payload writer escapes the id, so even an id that
// bypassed Restore's check cannot add a second "i" to the payload and read
// back as another session's id.
func TestCookiePayloadEscapesTheID(t *testing.T) {
	st := newPlainClientStorage(t, ClientOptions{})
	hostile := `x","i":"victimvictimvictimvictimvictimvictimvic`
	s := &Session{id: hostile, rec: recordState{originalID: hostile}, dirty: true, values: wire.FieldsOf(map[string]any{"a": 1.0})}
	value, set, err := st.Save(context.Background(), s)
	if err != nil || !set {
		t.Fatalf("Save = (%q, %v, %v)", value, set, err)
	}
	id, values, _, _, err := parsePayload(value)
	if err != nil || id != hostile || values.Map()["a"] != 1.0 {
		t.Errorf("payload %s reads back as id %q (err %v), want the escaped id itself", value, id, err)
	}
	r, err := st.Read(context.Background(), value)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.ID(); got == hostile || got == "victimvictimvictimvictimvictimvictimvic" || !ValidID(got) {
		t.Errorf("Read gave id %q, want a fresh valid one", got)
	}
}
