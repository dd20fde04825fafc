package sessionotel_test

import (
	"context"
	"fmt"
	"log"

	"github.com/sessionkit/sessionkit/session"
	sessionotel "github.com/sessionkit/sessionkit/session-otel"
	"github.com/sessionkit/sessionkit/session/memorystorage"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// An Observer on an SDK MeterProvider, set as the storage's Observer. A
// program would give the MeterProvider an exporter's reader instead of a
// ManualReader, and also set Options.TracerProvider (or the global
// providers) for the spans.
func Example() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	obs, err := sessionotel.New(sessionotel.Options{MeterProvider: mp})
	if err != nil {
		log.Fatal(err)
	}
	st, err := memorystorage.New(memorystorage.Options{Session: session.Options{Observer: obs}})
	if err != nil {
		log.Fatal(err)
	}

	// One request that stores a new session.
	ctx := context.Background()
	s, err := st.Read(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	s.Set("n", 1)
	if _, _, err := st.Save(ctx, s); err != nil {
		log.Fatal(err)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					fmt.Printf("%s {%s} %d\n", m.Name, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Value)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					fmt.Printf("%s {%s} count %d\n", m.Name, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Count)
				}
			}
		}
	}
	// Unordered output:
	// session.events {session.event=created,session.storage=memory} 1
	// session.save.duration {session.outcome=created,session.storage=memory} count 1
}
