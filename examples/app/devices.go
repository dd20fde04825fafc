package main

import (
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/sessionkit/sessionkit/router"
	"github.com/sessionkit/sessionkit/session"
)

// The account page's "Active sessions": every session signed in as this user
// (one per browser or device), named by the device and network it was last
// used from, with a "Sign out" button on each row and "sign out everywhere
// else". The storages index sessions by the "user" value
// (session.Options.UserKey), so listing asks the store for this user's
// sessions only, and signing out deletes their records on the server: the
// next request from that browser is anonymous. Cookie storage can list
// nothing, but it can still sign out everywhere else: it refuses the
// cookies signed in before the user's epoch was raised (session.Epochs).

// userKey is the session value that names the signed-in user.
const userKey = "user"

// deviceRoutes are the two forms of the section, both POST (so
// CrossOriginProtection covers them) and both for signed-in users only.
var deviceRoutes = struct {
	SignOut, SignOutOthers router.Route
}{
	SignOut:       router.Route{Method: http.MethodPost, Pattern: "/account/sessions/sign-out"},
	SignOutOthers: router.Route{Method: http.MethodPost, Pattern: "/account/sessions/sign-out-others"},
}

// devicesView is the section.
type devicesView struct {
	Available bool // the storage keeps an index (not cookie storage)
	// Everywhere: without a list, "sign out everywhere else" still works
	// (cookie storage, through the user's epoch).
	Everywhere bool
	Error      bool // listing failed (logged)
	Rows       []deviceRow
	Others     int // rows that are not this device
	R          struct{ SignOut, SignOutOthers router.Route }
}

type deviceRow struct {
	Handle   string // opaque: names the session without revealing its id
	Device   string // "Firefox on Linux"
	Network  string // "203.0.113.0/24"
	Created  string
	LastSeen string
	Ago      string
	This     bool // the session of this request
}

// unknownDevice and unknownNetwork stand for the facts a session was saved
// without: before its first write of them, or by another program.
const (
	unknownDevice  = "Unknown device"
	unknownNetwork = "unknown network"
)

// devices lists user's sessions for the account page.
func (a *app) devices(r *http.Request, s *session.Session, user string) *devicesView {
	v := &devicesView{Available: a.cfg.storage.Users != nil}
	v.Everywhere = !v.Available && a.cfg.storage.Epochs != nil
	v.R.SignOut, v.R.SignOutOthers = deviceRoutes.SignOut, deviceRoutes.SignOutOthers
	if !v.Available {
		return v
	}
	list, err := a.cfg.storage.Users.Sessions(r.Context(), user)
	if err != nil {
		a.logger().ErrorContext(r.Context(), "listing sessions", "error", err)
		v.Error = true
		return v
	}
	now := time.Now()
	this := s.Handle()
	for _, info := range list {
		// The rest newest LastSeen first, as Sessions lists them.
		row := newDeviceRow(info, info.Handle == this)
		row.Ago = ago(now.Sub(info.LastSeen))
		if !row.This {
			v.Others++
			v.Rows = append(v.Rows, row)
		} else {
			v.Rows = slices.Insert(v.Rows, 0, row) // this device first
		}
	}
	return v
}

// newDeviceRow is the row of one session; this marks the session of this
// request.
func newDeviceRow(info session.SessionInfo, this bool) deviceRow {
	row := deviceRow{Handle: info.Handle, This: this, Device: info.Device, Network: info.Network,
		LastSeen: formatTime(info.LastSeen), Created: formatTime(info.Created)}
	if row.Device == "" {
		row.Device = unknownDevice
	}
	if row.Network == "" {
		row.Network = unknownNetwork
	}
	return row
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// ago writes a duration as "just now", "5 minutes ago", "3 hours ago".
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	}
	return plural(int(d/(24*time.Hour)), "day") + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// signOutDevice ends one session of the signed-in user, named by its handle.
// For this device it is a normal sign-out; for another, the storage deletes
// that session's record, and a handle of another user's session ends
// nothing.
func (a *app) signOutDevice(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	user, _ := session.Value[string](s, userKey)
	handle := r.PostFormValue("handle")
	if handle != "" && handle == s.Handle() {
		a.logout(w, r)
		return
	}
	if ix := a.cfg.storage.Users; ix != nil && handle != "" {
		if err := ix.Revoke(r.Context(), user, handle); err != nil {
			a.logger().ErrorContext(r.Context(), "signing out a device", "error", err)
			s.Flash("error", "That device could not be signed out; try again.")
		} else {
			s.Flash("notice", "That device has been signed out.")
		}
	}
	http.Redirect(w, r, routes.Account.MustHref(nil), http.StatusSeeOther)
}

// signOutOthers ends every session of the signed-in user but this one: what
// to do on a device that is not yours. A storage that keeps an index
// deletes the others' records (and says how many); cookie storage raises
// the user's epoch, so that the other browsers' cookies are refused.
func (a *app) signOutOthers(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	user, _ := session.Value[string](s, userKey)
	var err error
	switch {
	case a.cfg.storage.Users != nil:
		var n int
		n, err = a.cfg.storage.Users.RevokeAll(r.Context(), user, s.Handle())
		if err == nil {
			s.Flash("notice", "Signed out "+plural(n, "other session")+".")
		}
	case a.cfg.storage.Epochs != nil:
		if err = a.endOtherSessions(r.Context(), user, s); err == nil {
			s.Flash("notice", "Every other device was signed out.")
		}
	}
	if err != nil {
		a.logger().ErrorContext(r.Context(), "signing out other devices", "error", err)
		s.Flash("error", "The other devices could not be signed out; try again.")
	}
	http.Redirect(w, r, routes.Account.MustHref(nil), http.StatusSeeOther)
}

var _ = template.Must(pageTemplate.Parse(devicesHTML))

const devicesHTML = `{{define "devices"}}{{with .Devices}}
<section class="card" id="devices">
<h2>Active sessions</h2>
{{if not .Available}}<p class="muted" id="devices-unavailable">Listing is not available with cookie storage: the whole session lives in the browser's cookie, so the server keeps no list of them, and sign out ends only this browser's copy. Use <code>-storage memory</code> or <code>-storage file</code> to see them.</p>
{{if .Everywhere}}<p class="muted">Signing out every other browser works all the same: the server keeps a counter per account (its <em>epoch</em>), stamped into each cookie at sign-in. Raising it makes every cookie stamped before refused on its next request, except this browser's, which gets the new stamp.</p>
<form method="post" action="{{href .R.SignOutOthers}}"><p><button class="primary" type="submit" id="sign-out-others">Sign out everywhere else</button></p></form>
{{end}}{{else if .Error}}<p class="flash error">Your sessions could not be listed right now.</p>
{{else}}<p class="muted">Every browser signed in as you, by the device and network it was last used from. Signing one out deletes its session on the server: its next request is anonymous. <em>Session began</em> is when that browser's session started, which may be before it signed in: signing in gives the session a new id but keeps its start.</p>
<table class="devices">
<tr><th>Device</th><th>Session began</th><th>Last seen</th><th></th></tr>
{{range .Rows}}<tr class="device{{if .This}} this{{end}}">
<td><span class="device-name">{{.Device}}</span>{{if .This}} <strong class="this-device">This device</strong>{{end}}<br><span class="muted network">{{.Network}}</span></td>
<td>{{.Created}}</td>
<td>{{.Ago}} <span class="muted">({{.LastSeen}})</span></td>
<td><form method="post" action="{{href $.Devices.R.SignOut}}"><input type="hidden" name="handle" value="{{.Handle}}"><button type="submit" class="sign-out-device">Sign out</button></form></td>
</tr>{{end}}
</table>
{{if .Others}}<form method="post" action="{{href .R.SignOutOthers}}"><p><button class="primary" type="submit" id="sign-out-others">Sign out everywhere else ({{.Others}})</button></p></form>{{end}}
{{end}}</section>
{{end}}{{end}}`
