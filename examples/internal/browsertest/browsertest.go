// Package browsertest starts headless Chromium for the examples' browser
// tests (examples/app and examples/remix-shared), driven through chromedp.
// The tests are slow and need a browser, so they run only when
// SESSIONKIT_E2E=1 (`make e2e` and .ci/run set it).
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Env turns the browser tests on.
const Env = "SESSIONKIT_E2E"

// BrowserEnv names another browser binary than Debian's chromium.
const BrowserEnv = "SESSIONKIT_CHROMIUM"

// Enabled reports whether Env asks for the browser tests.
func Enabled() bool {
	v := os.Getenv(Env)
	return v != "" && v != "0" && !strings.EqualFold(v, "false")
}

// Chromium finds the browser: BrowserEnv, else /usr/bin/chromium (Debian's
// package), else chromium or chromium-browser on PATH.
func Chromium() (string, error) {
	if p := os.Getenv(BrowserEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", BrowserEnv, p, err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium: install Debian's chromium package (make e2e does, as root) or set " + BrowserEnv)
}

// Start starts headless Chromium at path with a fresh profile and a window
// of width×height, as this machine needs it (no sandbox as root, no GPU, no
// background networking, which a closed network refuses), and returns its
// browser context, bound to ctx. Each flow that needs its own cookies opens
// a context of its own with chromedp.WithNewBrowserContext. The browser is
// stopped when the test ends.
func Start(t testing.TB, ctx context.Context, path string, width, height int, opts ...chromedp.ContextOption) context.Context {
	t.Helper()
	start := time.Now()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, opts...)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browserCtx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", path, err)
	}
	t.Logf("browser started in %v", time.Since(start).Round(time.Millisecond))
	return browserCtx
}
