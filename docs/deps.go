//go:build readmedeps

// This file is never built. It names the packages that the Go blocks of the
// READMEs may import, so that `go mod tidy` keeps their modules in this
// module's go.mod: the README check builds the blocks inside this module.
// A README block that imports a package of another module needs that
// module here (and in go.mod, through `GOWORK=off go mod tidy`).

package docs

import (
	_ "github.com/bradfitz/gomemcache/memcache"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/sessionkit/sessionkit/cookie"
	_ "github.com/sessionkit/sessionkit/router"
	_ "github.com/sessionkit/sessionkit/session"
	_ "github.com/sessionkit/sessionkit/session-middleware"
	_ "github.com/sessionkit/sessionkit/session-otel"
	_ "github.com/sessionkit/sessionkit/storage-memcache"
	_ "github.com/sessionkit/sessionkit/storage-postgres"
	_ "github.com/sessionkit/sessionkit/storage-redis"
	_ "go.opentelemetry.io/otel/sdk/metric"
)
