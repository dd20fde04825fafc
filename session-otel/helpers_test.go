package sessionotel

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/session"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// telemetry is an SDK MeterProvider with a ManualReader and an SDK
// TracerProvider with a SpanRecorder, and an Observer on both.
type telemetry struct {
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	obs    session.Observer
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	tel := &telemetry{reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans))
	t.Cleanup(func() {
		_ = mp.Shutdown(context.Background())
		_ = tel.tp.Shutdown(context.Background())
	})
	obs, err := New(Options{MeterProvider: mp, TracerProvider: tel.tp})
	if err != nil {
		t.Fatal(err)
	}
	tel.obs = obs
	return tel
}

// collect returns the metrics of this module's scope, by name.
func (tel *telemetry) collect(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ScopeName {
			t.Errorf("metrics of scope %q, want only %q", sm.Scope.Name, ScopeName)
			continue
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// attrString is an attribute set as "k=v,k=v", keys sorted.
func attrString(s attribute.Set) string { return s.Encoded(attribute.DefaultEncoder()) }

// counts returns the points of a monotonic int64 sum by attribute set.
func counts(t *testing.T, m metricdata.Metrics, unit string) map[string]int64 {
	t.Helper()
	if m.Unit != unit {
		t.Errorf("%s: unit %q, want %q", m.Name, m.Unit, unit)
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s: data %T, want an int64 sum", m.Name, m.Data)
	}
	if !sum.IsMonotonic {
		t.Errorf("%s is not monotonic", m.Name)
	}
	out := map[string]int64{}
	for _, p := range sum.DataPoints {
		out[attrString(p.Attributes)] = p.Value
	}
	return out
}

// histCounts returns the counts of a float64 histogram in seconds by
// attribute set, and checks its bounds and sums.
func histCounts(t *testing.T, m metricdata.Metrics) map[string]uint64 {
	t.Helper()
	if m.Unit != "s" {
		t.Errorf("%s: unit %q, want \"s\"", m.Name, m.Unit)
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s: data %T, want a float64 histogram", m.Name, m.Data)
	}
	out := map[string]uint64{}
	for _, p := range h.DataPoints {
		out[attrString(p.Attributes)] = p.Count
		if !slices.Equal(p.Bounds, durationBuckets) {
			t.Errorf("%s: bounds %v, want %v", m.Name, p.Bounds, durationBuckets)
		}
		if p.Sum < 0 || p.Sum > 60 {
			t.Errorf("%s %s: sum %v s", m.Name, attrString(p.Attributes), p.Sum)
		}
	}
	return out
}

// wantPoints compares points by attribute set.
func wantPoints[V comparable](t *testing.T, name string, got, want map[string]V) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: no point {%s}, want %v", name, k, w)
		} else if g != w {
			t.Errorf("%s {%s} = %v, want %v", name, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected point {%s} = %v", name, k, g)
		}
	}
}

// noSecrets checks that no attribute, name or status of any metric point or
// span holds one of secrets.
func noSecrets(t *testing.T, metrics map[string]metricdata.Metrics, spans []sdktrace.ReadOnlySpan, secrets []string) {
	t.Helper()
	var texts []string
	addSet := func(s attribute.Set) {
		for _, kv := range s.ToSlice() {
			texts = append(texts, string(kv.Key), kv.Value.String())
		}
	}
	addKVs := func(kvs []attribute.KeyValue) { addSet(attribute.NewSet(kvs...)) }
	for _, m := range metrics {
		texts = append(texts, m.Name)
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			for _, p := range d.DataPoints {
				addSet(p.Attributes)
			}
		case metricdata.Histogram[float64]:
			for _, p := range d.DataPoints {
				addSet(p.Attributes)
			}
		default:
			t.Errorf("%s: data %T", m.Name, m.Data)
		}
	}
	for _, s := range spans {
		texts = append(texts, s.Name(), s.Status().Description)
		addKVs(s.Attributes())
		for _, ev := range s.Events() {
			texts = append(texts, ev.Name)
			addKVs(ev.Attributes)
		}
	}
	checked := 0
	for _, secret := range secrets {
		if secret == "" {
			continue // an id not minted yet, a handle of no id
		}
		checked++
		for _, text := range texts {
			if strings.Contains(text, secret) {
				t.Errorf("telemetry holds %q, which contains the secret %q", text, secret)
			}
		}
	}
	if checked == 0 || len(texts) == 0 {
		t.Errorf("checked %d secrets against %d texts", checked, len(texts))
	}
}

// spanAttrs returns a span's attributes as "k=v,k=v", keys sorted.
func spanAttrs(s sdktrace.ReadOnlySpan) string {
	return attrString(attribute.NewSet(s.Attributes()...))
}
