module github.com/sessionkit/sessionkit/examples

go 1.26.0

require (
	github.com/bradfitz/gomemcache v0.0.0-20260422231931-4d751bb6e37c
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/jackc/pgx/v5 v5.13.0
	github.com/prometheus/client_golang v1.25.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/sessionkit/sessionkit/cookie v0.0.0
	github.com/sessionkit/sessionkit/router v0.0.0
	github.com/sessionkit/sessionkit/session v0.0.0
	github.com/sessionkit/sessionkit/session-middleware v0.0.0
	github.com/sessionkit/sessionkit/session-otel v0.0.0
	github.com/sessionkit/sessionkit/storage-memcache v0.0.0
	github.com/sessionkit/sessionkit/storage-postgres v0.0.0
	github.com/sessionkit/sessionkit/storage-redis v0.0.0
	go.opentelemetry.io/otel/exporters/prometheus v0.69.0
	go.opentelemetry.io/otel/sdk/metric v1.47.0
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/otlptranslator v1.0.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel v1.47.0 // indirect
	go.opentelemetry.io/otel/log v1.47.0 // indirect
	go.opentelemetry.io/otel/metric v1.47.0 // indirect
	go.opentelemetry.io/otel/sdk v1.47.0 // indirect
	go.opentelemetry.io/otel/trace v1.47.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sync v0.23.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace (
	github.com/sessionkit/sessionkit/cookie => ../cookie
	github.com/sessionkit/sessionkit/router => ../router
	github.com/sessionkit/sessionkit/session => ../session
	github.com/sessionkit/sessionkit/session-middleware => ../session-middleware
	github.com/sessionkit/sessionkit/session-otel => ../session-otel
	github.com/sessionkit/sessionkit/storage-memcache => ../storage-memcache
	github.com/sessionkit/sessionkit/storage-postgres => ../storage-postgres
	github.com/sessionkit/sessionkit/storage-redis => ../storage-redis
)
