package sessionotel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// allEvents is one event of every kind, with every cause it comes with,
// and events of kinds this package does not know.
func allEvents() []session.Event {
	errDown := errors.New("down")
	return []session.Event{
		{Kind: session.EventLoaded},
		{Kind: session.EventMissing},
		{Kind: session.EventExpired, Cause: session.CauseIdle},
		{Kind: session.EventExpired, Cause: session.CauseLifetime},
		{Kind: session.EventCorrupt, Err: errors.New("bad record")},
		{Kind: session.EventCreated},
		{Kind: session.EventSaved, Cause: session.CauseWrite, Merged: 2},
		{Kind: session.EventSaved, Cause: session.CauseRefresh},
		{Kind: session.EventRegenerated},
		{Kind: session.EventDestroyed},
		{Kind: session.EventRevoked, Cause: session.CauseRevoke},
		{Kind: session.EventRevoked, Cause: session.CauseRevokeAll},
		{Kind: session.EventRevoked, Cause: session.CauseCap},
		{Kind: session.EventTooLarge, Err: errors.New("too large by 10 bytes")},
		{Kind: session.EventStorageError, Cause: session.CauseRead, Err: errDown},
		{Kind: session.EventStorageError, Cause: session.CauseSave, Err: errDown},
		{Kind: session.EventStorageError, Cause: session.CauseRevoke, Err: errDown},
		{Kind: session.EventStorageError, Cause: session.CauseLock, Err: errDown},
		{Kind: session.EventLockWaited},
		{Kind: session.EventLockTimeout},
		{},
		{Kind: 200, Cause: "new"},
	}
}

// TestEveryKind observes one event of each kind and checks which
// histogram and span each gets, and the span's status.
func TestEveryKind(t *testing.T) {
	for _, e := range allEvents() {
		e.Storage, e.Handle, e.User, e.Duration = "test", "HANDLE-SECRET", "USER-SECRET", 3*time.Millisecond
		t.Run(fmt.Sprintf("%s/%s", e.Kind, e.Cause), func(t *testing.T) {
			tel := newTelemetry(t)
			tel.obs.Observe(context.Background(), e)
			metrics := tel.collect(t)
			wantHist, wantSpan := classify(e)
			for _, name := range []string{MetricReadDuration, MetricSaveDuration, MetricLockWait} {
				_, ok := metrics[name]
				if ok != (name == wantHist) {
					t.Errorf("%s recorded: %v, want %v", name, ok, !ok)
				}
			}
			if got := counts(t, metrics[MetricEvents], "{event}"); len(got) != 1 {
				t.Errorf("%s: %v, want one point", MetricEvents, got)
			}
			if _, ok := metrics[MetricSaveMerges]; ok != (e.Merged > 0) {
				t.Errorf("%s recorded: %v with Merged %d", MetricSaveMerges, ok, e.Merged)
			}
			spans := tel.spans.Ended()
			if wantSpan == "" {
				if len(spans) != 0 {
					t.Errorf("%d spans, want none", len(spans))
				}
				return
			}
			if len(spans) != 1 || spans[0].Name() != wantSpan {
				t.Fatalf("spans %v, want one %s", spans, wantSpan)
			}
			s := spans[0]
			if d := s.EndTime().Sub(s.StartTime()); d != e.Duration {
				t.Errorf("span lasts %v, want %v", d, e.Duration)
			}
			if wantErr := e.Err != nil || e.Kind == session.EventLockTimeout; (s.Status().Code == codes.Error) != wantErr {
				t.Errorf("status %+v, want error: %v", s.Status(), wantErr)
			}
			if len(s.Events()) != map[bool]int{true: 1}[e.Err != nil] {
				t.Errorf("span events %v with Err %v", s.Events(), e.Err)
			}
			noSecrets(t, metrics, spans, []string{"SECRET"})
		})
	}
}

// classify is the histogram and span an event must get ("": none).
func classify(e session.Event) (hist, span string) {
	switch {
	case e.Kind >= session.EventLoaded && e.Kind <= session.EventCorrupt,
		e.Kind == session.EventStorageError && e.Cause == session.CauseRead:
		return MetricReadDuration, SpanRead
	case e.Kind >= session.EventCreated && e.Kind <= session.EventDestroyed, e.Kind == session.EventTooLarge,
		e.Kind == session.EventStorageError && e.Cause == session.CauseSave:
		return MetricSaveDuration, SpanSave
	case e.Kind == session.EventLockWaited, e.Kind == session.EventLockTimeout,
		e.Kind == session.EventStorageError && e.Cause == session.CauseLock:
		return MetricLockWait, SpanLock
	}
	return "", ""
}

// TestZeroOptions: New with no providers uses the global ones (no-op
// here) and takes every event.
func TestZeroOptions(t *testing.T) {
	obs, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var _ session.Options = session.Options{Observer: obs}
	for _, e := range allEvents() {
		obs.Observe(context.Background(), e)
		e.Storage, e.Duration, e.Merged = "memory", time.Millisecond, 1
		obs.Observe(t.Context(), e)
	}
}

// TestConcurrentObserve observes from many goroutines at once (under
// -race), with the attribute cache filling meanwhile.
func TestConcurrentObserve(t *testing.T) {
	tel := newTelemetry(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i, e := range allEvents() {
				e.Storage = fmt.Sprintf("s%d", (g+i)%3)
				tel.obs.Observe(context.Background(), e)
			}
		})
	}
	wg.Wait()
	var total int64
	for _, v := range counts(t, tel.collect(t)[MetricEvents], "{event}") {
		total += v
	}
	if want := int64(8 * len(allEvents())); total != want {
		t.Errorf("%d events counted, want %d", total, want)
	}
}

// TestAttrCacheBound: past maxCached combinations, attributes are computed
// for each event and not kept.
func TestAttrCacheBound(t *testing.T) {
	var c attrCache
	for i := range maxCached + 10 {
		a := c.get(fmt.Sprint("storage", i), session.EventLoaded, "")
		if a.phase != phaseRead {
			t.Fatalf("phase %v, want read", a.phase)
		}
	}
	if n := len(*c.m.Load()); n != maxCached {
		t.Errorf("cache holds %d, want %d", n, maxCached)
	}
	first, again := c.get("storage1", session.EventLoaded, ""), c.get("storage1", session.EventLoaded, "")
	if first != again {
		t.Error("a cached entry is computed again")
	}
}

// TestObserveAllocs: with no-op providers, an event that is only counted
// allocates nothing once its attributes are cached.
func TestObserveAllocs(t *testing.T) {
	obs, err := New(Options{MeterProvider: metricnoop.NewMeterProvider(), TracerProvider: tracenoop.NewTracerProvider()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e := session.Event{Kind: session.EventRevoked, Storage: "memory", Cause: session.CauseRevoke}
	if n := testing.AllocsPerRun(100, func() { obs.Observe(ctx, e) }); n != 0 {
		t.Errorf("Observe of a revoke allocates %v times, want 0", n)
	}
}

// BenchmarkObserve observes a read event with no-op providers, and with
// the SDK's (a ManualReader, a tracer provider that samples every span and
// exports none).
func BenchmarkObserve(b *testing.B) {
	e := session.Event{Kind: session.EventLoaded, Storage: "memory", Duration: time.Millisecond}
	bench := func(b *testing.B, o Options) {
		obs, err := New(o)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			obs.Observe(ctx, e)
		}
	}
	b.Run("noop", func(b *testing.B) {
		bench(b, Options{MeterProvider: metricnoop.NewMeterProvider(), TracerProvider: tracenoop.NewTracerProvider()})
	})
	b.Run("sdk", func(b *testing.B) {
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		tp := sdktrace.NewTracerProvider()
		b.Cleanup(func() {
			_ = mp.Shutdown(context.Background())
			_ = tp.Shutdown(context.Background())
		})
		bench(b, Options{MeterProvider: mp, TracerProvider: tp})
	})
}

// TestNegativeDuration: a negative Duration is recorded as 0, and its
// span ends where it starts.
func TestNegativeDuration(t *testing.T) {
	tel := newTelemetry(t)
	tel.obs.Observe(context.Background(), session.Event{Kind: session.EventLoaded, Storage: "memory", Duration: -time.Second})
	h := tel.collect(t)[MetricReadDuration].Data.(metricdata.Histogram[float64])
	if len(h.DataPoints) != 1 || h.DataPoints[0].Count != 1 || h.DataPoints[0].Sum != 0 {
		t.Errorf("%s: %+v, want one point of 0", MetricReadDuration, h.DataPoints)
	}
	if s := tel.spans.Ended(); len(s) != 1 || !s[0].EndTime().Equal(s[0].StartTime()) {
		t.Errorf("spans %v, want one of no duration", s)
	}
}
