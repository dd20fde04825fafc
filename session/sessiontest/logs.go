package sessiontest

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
)

// Logs captures what a storage logs, for assertions. It is safe for
// concurrent use.
type Logs struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	warnings int
	logger   *slog.Logger
}

// NewLogs returns an empty capture; pass Logger() as session.Options.Logger.
func NewLogs() *Logs {
	l := &Logs{}
	l.logger = slog.New(&logsHandler{l: l, h: slog.NewTextHandler(lockedWriter{l}, &slog.HandlerOptions{Level: slog.LevelDebug})})
	return l
}

// Logger returns a logger that writes into l.
func (l *Logs) Logger() *slog.Logger { return l.logger }

// String returns everything logged so far, one text-format line per record.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Warnings returns how many records of level Warn or above were logged.
func (l *Logs) Warnings() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.warnings
}

// Contains reports whether s occurs in the logs.
func (l *Logs) Contains(s string) bool { return strings.Contains(l.String(), s) }

type lockedWriter struct{ l *Logs }

// Write is called by the text handler while logsHandler holds l.mu.
func (w lockedWriter) Write(p []byte) (int, error) { return w.l.buf.Write(p) }

type logsHandler struct {
	l *Logs
	h slog.Handler
}

func (h *logsHandler) Enabled(ctx context.Context, lv slog.Level) bool { return true }

func (h *logsHandler) Handle(ctx context.Context, r slog.Record) error {
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	if r.Level >= slog.LevelWarn {
		h.l.warnings++
	}
	return h.h.Handle(ctx, r)
}

func (h *logsHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &logsHandler{l: h.l, h: h.h.WithAttrs(as)}
}

func (h *logsHandler) WithGroup(name string) slog.Handler {
	return &logsHandler{l: h.l, h: h.h.WithGroup(name)}
}
