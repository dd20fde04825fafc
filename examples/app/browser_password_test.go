package main

import (
	"context"
	"io"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// reauthFlow is the password change in two browsers, each a browser context
// of its own (its own cookies) that says it is another device: Firefox on
// Linux and Safari on an iPhone. Both sign in as demo; the first lists both
// devices (server-side storages), opens "Change password" directly, since it
// signed in just now, and once the app's clock is six minutes on, is sent to
// sign in again and brought back to the form. It changes the password, and
// the second browser's next page says it was signed out because of that.
//
// The app runs in this process, on the storage of the row's flags, so that
// the test holds its clock; the row's throwaway servers are not shared with
// it, so the account's sessions are only these two browsers'.
func reauthFlow(t *testing.T, browserCtx context.Context, dir string, flags []string) {
	cfg, err := parseFlags(flags, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	clock := sessiontest.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	srv, _, _ := newTestServerWith(t, testOptions{storage: cfg.storage, seal: cfg.seal, now: clock.Now})
	app := srv.URL
	first, second := newDevice(t, browserCtx, dir, firefoxLinuxUA, 40), newDevice(t, browserCtx, dir, safariIOSUA, 50)
	first.signIn(app, "password")
	second.signIn(app, "password")

	first.open(app + "/account")
	if cfg.storage == "cookie" {
		first.contains("#devices-unavailable", "Listing is not available with cookie storage")
		first.contains("#sign-out-others", "Sign out everywhere else")
	} else {
		first.wantDevices("Firefox on Linux", "Safari on iOS")
	}
	first.shot("devices-firefox-and-safari")

	// Signed in just now: the form, directly.
	form := first.follow(chromedp.Click(chromedp.ID("change-password")))
	first.want(form, pageState{Status: 200, Path: "/account/password", H1: "Change password", User: "demo"})
	first.shot("change-password-recent-sign-in")

	// Six minutes on, the sign-in is too old: the sign-in form, which comes
	// back to the page once the password is typed again.
	clock.Advance(6 * time.Minute)
	first.open(app + "/account")
	again := first.follow(chromedp.Click(chromedp.ID("change-password")))
	first.want(again, pageState{Status: 200, Path: "/login", H1: "Sign in"})
	first.wantQuery("?return=%2Faccount%2Fpassword")
	first.contains("#reauth", "/account/password, needs a recent sign-in")
	first.shot("change-password-sign-in-again")
	first.do(chromedp.SendKeys(chromedp.ID("password"), "password"))
	back := first.follow(chromedp.Submit(chromedp.ID("login")))
	first.want(back, pageState{Status: 200, Path: "/account/password", H1: "Change password", Notice: "Welcome, demo!", User: "demo"})
	first.shot("change-password-back-after-sign-in")

	first.do(chromedp.SendKeys(chromedp.ID("new-password"), "correct horse battery"),
		chromedp.SendKeys(chromedp.ID("confirm-password"), "correct horse battery"))
	changed := first.follow(chromedp.Submit(chromedp.ID("password-form")))
	first.want(changed, pageState{Status: 200, Path: "/account", H1: "Account", Notice: "Password changed; every other device was signed out.", User: "demo"})
	if cfg.storage != "cookie" {
		first.wantDevices("Firefox on Linux")
	}
	first.shot("password-changed")

	// The second browser's next page says why it is signed out.
	out := second.open(app + "/account")
	if !epochSignOut.MatchString(out.Error) {
		t.Fatalf("the second browser's page says %q, want that the password was changed", out.Error)
	}
	second.want(out, pageState{Status: 200, Path: "/login", H1: "Sign in", Error: out.Error})
	second.shot("signed-out-password-changed")
	second.do(chromedp.SendKeys(chromedp.ID("username"), "demo"), chromedp.SendKeys(chromedp.ID("password"), "password"))
	wrong := second.follow(chromedp.Submit(chromedp.ID("login")))
	second.want(wrong, pageState{Status: 200, Path: "/login", H1: "Sign in", Error: "Wrong username or password."})
	second.signIn(app, "correct horse battery")
	second.shot("signed-in-new-password")
}

// epochSignOut is the message of a browser signed out by a password change:
// with its time where the storage knows it (server-side storages), then
// the sign-in form's own.
var epochSignOut = regexp.MustCompile(`^You were signed out because the password was changed or someone chose to sign out everywhere(, at \d\d:\d\d UTC)?\. Please sign in to see your account\.$`)

// newDevice opens a browser context of its own (its own cookies) whose
// requests carry the User-Agent header ua; its screenshots are numbered
// from shots+1.
func newDevice(t *testing.T, browserCtx context.Context, dir, ua string, shots int) *tab {
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua}); err != nil {
		t.Fatal(err)
	}
	return &tab{t: t, ctx: ctx, dir: dir, started: time.Now(), shots: shots}
}

// signIn signs in as demo with password from the sign-in form.
func (b *tab) signIn(app, password string) {
	b.t.Helper()
	b.open(app + "/login")
	b.do(chromedp.SendKeys(chromedp.ID("username"), "demo"), chromedp.SendKeys(chromedp.ID("password"), password))
	page := b.follow(chromedp.Submit(chromedp.ID("login")))
	b.want(page, pageState{Status: 200, Path: "/account", H1: "Account", Notice: "Welcome, demo!", User: "demo"})
}

// wantDevices checks the rows of "Active sessions": these devices, in this
// order, the first one this device.
func (b *tab) wantDevices(names ...string) {
	b.t.Helper()
	rows, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]struct {
		Name string `json:"name"`
		This bool   `json:"this"`
	}](`[...document.querySelectorAll("tr.device")].map(r => ({name: r.querySelector(".device-name").textContent, this: r.classList.contains("this")}))`))
	if err != nil {
		b.t.Fatal(err)
	}
	ok := len(rows) == len(names)
	for i := range rows {
		ok = ok && rows[i].Name == names[i] && rows[i].This == (i == 0)
	}
	if !ok {
		b.t.Fatalf("active sessions %+v, want %q, the first this device", rows, names)
	}
	b.contains("tr.device.this .this-device", "This device")
}

// wantQuery checks the query of the page's address.
func (b *tab) wantQuery(want string) {
	b.t.Helper()
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.search`))
	if err != nil {
		b.t.Fatal(err)
	}
	if got != want {
		b.t.Fatalf("query %q, want %q", got, want)
	}
}
