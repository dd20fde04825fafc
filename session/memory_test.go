package session_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// memoryConfig runs the suite on the memory storage's backend, as
// NewMemoryStorage builds it.
func memoryConfig() sessiontest.Config {
	return sessiontest.Config{
		Backend: func(t *testing.T, o session.Options) session.Backend {
			return session.NewMemoryBackendForTest(o.Now)
		},
		ClockControlsExpiry: true,
	}
}

func TestMemoryStorageConformance(t *testing.T) { sessiontest.Run(t, memoryConfig()) }

// The exported constructor itself, without hooks.
func TestNewMemoryStorageConformance(t *testing.T) {
	sessiontest.Run(t, sessiontest.Config{
		New: func(t *testing.T, o session.Options) session.Storage {
			return session.NewMemoryStorage(o)
		},
		ServerSide:          true,
		ClockControlsExpiry: true,
	})
}

func TestMemoryStorageRejectsNegativeIdleTimeout(t *testing.T) {
	for _, o := range []session.Options{{IdleTimeout: -1}, {IdleTimeout: -time.Second, Lifetime: -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewMemoryStorage(%+v) did not panic", o)
				}
			}()
			session.NewMemoryStorage(o)
		}()
	}
}

func TestMemoryBackendTTL(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewFakeClock(time.Time{})
	b := session.NewMemoryBackendForTest(clock.Now)
	b.Set(ctx, "a", []byte("1"), time.Minute)
	b.Set(ctx, "forever", []byte("2"), 0)
	clock.Advance(59 * time.Second)
	if _, err := b.Get(ctx, "a"); err != nil {
		t.Fatalf("live record: %v", err)
	}
	if err := b.Touch(ctx, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Second)
	if _, err := b.Get(ctx, "a"); err != nil {
		t.Fatalf("touched record: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := b.Get(ctx, "a"); err != session.ErrNotFound {
		t.Fatalf("expired record: %v, want ErrNotFound", err)
	}
	if err := b.Touch(ctx, "a", time.Minute); err != session.ErrNotFound {
		t.Errorf("Touch of an expired record: %v, want ErrNotFound", err)
	}
	if err := b.Touch(ctx, "missing", time.Minute); err != session.ErrNotFound {
		t.Errorf("Touch of a missing record: %v, want ErrNotFound", err)
	}
	clock.Advance(1000 * time.Hour)
	if _, err := b.Get(ctx, "forever"); err != nil {
		t.Errorf("a record with no TTL expired: %v", err)
	}
	if err := b.Touch(ctx, "forever", 0); err != nil {
		t.Error(err)
	}
	if err := b.Delete(ctx, "nothing"); err != nil {
		t.Errorf("Delete of a missing record: %v", err)
	}
	if n := session.MemorySweep(b); n != 1 {
		t.Errorf("sweep left %d records, want 1", n)
	}
}

// Each write examines at most 16 entries, so expired ones are swept as new
// sessions arrive without a write ever scanning the whole table.
func TestMemoryBackendSweepBound(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewFakeClock(time.Time{})
	b := session.NewMemoryBackendForTest(clock.Now)
	const old = 1000
	for i := 0; i < old; i++ {
		b.Set(ctx, fmt.Sprint("old", i), []byte("x"), time.Minute)
	}
	if n := session.MemoryRecordCount(b); n < old-16 {
		t.Fatalf("live records were swept: %d left", n)
	}
	clock.Advance(time.Hour)
	prev := session.MemoryRecordCount(b)
	for i := 0; i < 500; i++ {
		b.Set(ctx, fmt.Sprint("new", i), []byte("x"), time.Hour)
		n := session.MemoryRecordCount(b)
		if removed := prev + 1 - n; removed > 16 {
			t.Fatalf("one write removed %d records, want at most 16", removed)
		}
		prev = n
	}
	if n := session.MemoryRecordCount(b); n >= old+500-100 {
		t.Errorf("%d records after 500 writes over %d expired ones: the writes barely swept", n, old)
	}
	if n := session.MemorySweep(b); n != 500 {
		t.Errorf("sweep left %d records, want the 500 live ones", n)
	}
}
