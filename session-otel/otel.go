// Package sessionotel reports the lifecycle events of sessionkit's storages
// (session.Event) as OpenTelemetry metrics and spans. New returns a
// session.Observer to set as session.Options.Observer (or
// session.ClientOptions.Observer):
//
//	obs, err := sessionotel.New(sessionotel.Options{})
//	st, err := memorystorage.New(memorystorage.Options{Session: session.Options{Observer: obs}})
//
// It records the durations of session reads, saves and lock waits
// (session.read.duration, session.save.duration,
// session.lock.wait.duration), counts every event (session.events) and the
// merges of concurrent saves (session.save.merges), and starts one span per
// read, save or lock wait ("session.read", "session.save", "session.lock")
// as a child of the span in the request's context; the spans of corrupt
// records, sizes over the limit, storage errors and lock timeouts have
// status Error and record Event.Err. Attributes carry only
// the storage's name, the event's kind and cause, and the number of merges:
// never a session id, a session value, Event.Handle or Event.User.
//
// The core modules (session, cookie, session-middleware and the storages)
// never import OpenTelemetry; only this module does.
package sessionotel

import (
	"context"
	"errors"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the meter and the tracer.
const ScopeName = "github.com/sessionkit/sessionkit/session-otel"

// The metrics New creates.
const (
	MetricReadDuration = "session.read.duration"      // histogram, "s"
	MetricSaveDuration = "session.save.duration"      // histogram, "s"
	MetricLockWait     = "session.lock.wait.duration" // histogram, "s"
	MetricEvents       = "session.events"             // counter, "{event}"
	MetricSaveMerges   = "session.save.merges"        // counter, "{merge}"
)

// The spans the Observer starts.
const (
	SpanRead = "session.read"
	SpanSave = "session.save"
	SpanLock = "session.lock"
)

// durationBuckets are the explicit bucket boundaries, in seconds, that the
// duration histograms advise: from 100µs (a read from memory) to 10s (a
// lock wait). A View of the MeterProvider can replace them.
var durationBuckets = []float64{0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Options configure New. Zero value: the global providers
// (otel.GetMeterProvider(), otel.GetTracerProvider()).
type Options struct {
	// MeterProvider creates the meter of the metrics. nil:
	// otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// TracerProvider creates the tracer of the spans. nil:
	// otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
}

// observer is the session.Observer that New returns.
type observer struct {
	tracer trace.Tracer
	events metric.Int64Counter
	merges metric.Int64Counter
	// durations holds the histogram of each phase (phaseNone: none).
	durations [phaseCount]metric.Float64Histogram
	attrs     attrCache
}

// New returns a session.Observer that records metrics and spans for session
// events. It fails only when the meter refuses to create an instrument.
func New(o Options) (session.Observer, error) {
	mp, tp := o.MeterProvider, o.TracerProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	obs := &observer{tracer: tp.Tracer(ScopeName)}
	if err := obs.instruments(mp.Meter(ScopeName)); err != nil {
		return nil, err
	}
	return obs, nil
}

// instruments creates the metrics of obs with meter m.
func (obs *observer) instruments(m metric.Meter) error {
	var errs []error
	duration := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(durationBuckets...))
		errs = append(errs, err)
		return h
	}
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	obs.durations[phaseRead] = duration(MetricReadDuration, "Duration of session reads from their storage.")
	obs.durations[phaseSave] = duration(MetricSaveDuration, "Duration of session saves to their storage, every attempt included.")
	obs.durations[phaseLock] = duration(MetricLockWait, "Time spent waiting for a session's lock.")
	obs.events = counter(MetricEvents, "{event}", "Session lifecycle events.")
	obs.merges = counter(MetricSaveMerges, "{merge}", "Concurrent saves merged into a session's save.")
	return errors.Join(errs...)
}

// Observe records e: it counts it, adds its merges, and for a read, save or
// lock event records its duration and a span that ends now.
func (obs *observer) Observe(ctx context.Context, e session.Event) {
	a := obs.attrs.get(e.Storage, e.Kind, e.Cause)
	obs.events.Add(ctx, 1, a.event...)
	if e.Merged > 0 {
		obs.merges.Add(ctx, int64(e.Merged), a.storage...)
	}
	if a.phase == phaseNone {
		return
	}
	e.Duration = max(e.Duration, 0) // a histogram takes no negative value
	obs.durations[a.phase].Record(ctx, e.Duration.Seconds(), a.outcome...)
	obs.span(ctx, a, e)
}

// span records the span of a read, save or lock event: it started
// e.Duration ago and ends now.
func (obs *observer) span(ctx context.Context, a *attrs, e session.Event) {
	end := time.Now()
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithTimestamp(end.Add(-e.Duration)),
		trace.WithAttributes(a.span...),
	}
	if a.phase == phaseSave {
		opts = append(opts, trace.WithAttributes(keyMerged.Int(e.Merged)))
	}
	_, span := obs.tracer.Start(ctx, a.phase.spanName(), opts...)
	if !span.IsRecording() {
		span.End()
		return
	}
	if a.failed {
		if e.Err != nil {
			span.RecordError(e.Err, trace.WithTimestamp(end))
		}
		span.SetStatus(codes.Error, e.Kind.String())
	}
	span.End(trace.WithTimestamp(end))
}
