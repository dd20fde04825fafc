package main

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sessionkit/sessionkit/session"
	sessionotel "github.com/sessionkit/sessionkit/session-otel"
	otelprometheus "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// appMetrics is what -metrics sets up: an OpenTelemetry SDK MeterProvider
// read by the Prometheus exporter, package sessionotel's Observer on it, and
// the handler of GET /metrics.
type appMetrics struct {
	Observer session.Observer
	Handler  http.Handler
	// Shutdown flushes and stops the MeterProvider.
	Shutdown func(context.Context) error
}

// newMetrics returns the metrics of -metrics: the session metrics of
// sessionotel (session_read_duration_seconds, session_save_duration_seconds,
// session_events_total, …) in the Prometheus text format, from a registry
// of the app's own rather than the process-wide default one.
func newMetrics() (*appMetrics, error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprometheus.New(otelprometheus.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	obs, err := sessionotel.New(sessionotel.Options{MeterProvider: mp})
	if err != nil {
		mp.Shutdown(context.Background())
		return nil, err
	}
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return &appMetrics{Observer: obs, Handler: h, Shutdown: mp.Shutdown}, nil
}
