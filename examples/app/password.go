package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/session"
)

// "Change password": a page that needs a recent sign-in, not just a
// session. A browser left signed in on a shared computer must not be enough
// to take the account over, so the page asks for the password again when
// the last proof (Session.MarkAuthenticated, at every sign-in) is older
// than recentAuth: sessionmiddleware.RequireRecentAuth, in front of both of
// the page's routes (newApp), sends it to the sign-in form, which comes
// back here, and answers an API request 401. It measures that age on the
// clock of the storage that read the session (session.Options.Now,
// ClientOptions.Now), which is the app's clock: openStorage gives every
// storage cfg.now, the clock the sign-in records the proof on, so a test
// that moves that clock moves RequireRecentAuth's too. A change ends every
// other session of the account (session.Epochs.Bump), cookie storage's
// included: whoever knew the old password is signed out everywhere.

// recentAuth is how recent a sign-in must be to change the password: time
// enough to fill the form after signing in, short enough that a browser
// left signed in for an afternoon asks again.
const recentAuth = 5 * time.Minute

// The limits of a new password. The lower one is the usual floor for a
// password that is not the only factor; the upper one bounds the work a
// real program's password hash does per attempt.
const (
	minPasswordLen = 8
	maxPasswordLen = 256
)

// demoAccounts are the accounts the example accepts, by user name, with
// their passwords in memory: a real program keeps a password hash (bcrypt,
// argon2id) in its database. The password page changes them while other
// requests sign in, hence the mutex.
type demoAccounts struct {
	mu        sync.Mutex
	passwords map[string]string
}

// newDemoAccounts returns the demo's one account, demo / password. Each app
// has its own, so a test that changes the password changes it in its app
// only.
func newDemoAccounts() *demoAccounts {
	return &demoAccounts{passwords: map[string]string{"demo": "password"}}
}

// check reports whether password is user's. An unknown user is compared
// too, so that timing does not tell which users exist.
func (d *demoAccounts) check(user, password string) bool {
	d.mu.Lock()
	want, known := d.passwords[user]
	d.mu.Unlock()
	if !known {
		want = "\x00"
	}
	return subtle.ConstantTimeCompare([]byte(password), []byte(want)) == 1 && known
}

// errNoAccount is setPassword's error for a user the demo does not know.
var errNoAccount = errors.New("no such account")

// setPassword replaces user's password.
func (d *demoAccounts) setPassword(user, password string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, known := d.passwords[user]; !known {
		return errNoAccount
	}
	d.passwords[user] = password
	return nil
}

// passwordForm shows the form. RequireRecentAuth let the request through,
// so the sign-in is recent.
func (a *app) passwordForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, passwordPage(r, ""))
}

// passwordPage is the password page, with an error about the last attempt
// when errMsg is not "".
func passwordPage(r *http.Request, errMsg string) page {
	s := session.FromContext(r.Context())
	user, _ := session.Value[string](s, userKey)
	p := page{Title: "Change password", Body: "password", User: user, Error: errMsg,
		Recent: humanDuration(recentAuth), MinPassword: minPasswordLen}
	if at := s.AuthenticatedAt(); !at.IsZero() {
		p.SignedInAt = clockTime(at)
	}
	return p
}

// changePassword sets the new password, ends every other session of the
// account, and gives this session a new id: the page after it is the
// account page, whose "Active sessions" then lists this device alone.
func (a *app) changePassword(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	user, _ := session.Value[string](s, userKey)
	password := r.PostFormValue("password")
	if msg := passwordProblem(password, r.PostFormValue("confirm")); msg != "" {
		a.render(w, r, http.StatusOK, passwordPage(r, msg))
		return
	}
	if err := a.accounts.setPassword(user, password); err != nil {
		a.render(w, r, http.StatusOK, passwordPage(r, "This account's password cannot be changed here."))
		return
	}
	if err := a.endOtherSessions(r.Context(), user, s); err != nil {
		a.logger().ErrorContext(r.Context(), "changing a password: signing out the other devices", "error", err)
		s.Flash("error", "Your password was changed, but the other devices could not be signed out: use “Sign out everywhere else” below.")
	} else {
		s.Flash("notice", "Password changed; every other device was signed out.")
	}
	// A new id after a change of credentials, as after a sign-in: an id
	// that leaked before the change is worth nothing after it, at once.
	// The Bump above kept this session, so the rotation gets no grace
	// window (session.Options.RegenerateGrace): the old id's record is
	// deleted, not forwarded to the new one.
	s.RegenerateID(true)
	http.Redirect(w, r, routes.Account.MustHref(nil), http.StatusSeeOther)
}

// passwordProblem says what is wrong with a new password and its repeat,
// "" when nothing is.
func passwordProblem(password, again string) string {
	switch n := utf8.RuneCountInString(password); {
	case n < minPasswordLen:
		return "The new password is too short: use at least " + plural(minPasswordLen, "character") + "."
	case n > maxPasswordLen:
		return "The new password is too long: use at most " + plural(maxPasswordLen, "character") + "."
	case password != again:
		return "The two passwords differ: type the same new password twice."
	}
	return ""
}

// errNoEpochs is endOtherSessions' error when the storage keeps no epochs.
var errNoEpochs = errors.New("the storage keeps no per-user epochs")

// endOtherSessions ends every session of user but keep, on every device:
// it raises the user's epoch, which deletes the records of server-side
// sessions at once and makes cookie storage refuse the cookies stamped
// before it. keep is stamped with the new epoch, and saved with the
// response.
func (a *app) endOtherSessions(ctx context.Context, user string, keep *session.Session) error {
	ep := a.cfg.storage.Epochs
	if ep == nil {
		return errNoEpochs
	}
	_, err := ep.Bump(ctx, user, keep)
	return err
}

var _ = template.Must(pageTemplate.Parse(passwordHTML))

const passwordHTML = `{{define "password"}}
<p>Signed in as <strong id="user">{{.User}}</strong>{{with .SignedInAt}}, who last signed in at <span id="signed-in-at">{{.}}</span>{{end}}. This page asks for the password again when that sign-in is more than {{.Recent}} old.</p>
<form method="post" action="{{href .R.Password.Action}}" id="password-form">
<label>New password <input name="password" id="new-password" type="password" autocomplete="new-password" minlength="{{.MinPassword}}" required></label>
<label>New password again <input name="confirm" id="confirm-password" type="password" autocomplete="new-password" minlength="{{.MinPassword}}" required></label>
<p><button class="primary" type="submit">Change password</button></p>
</form>
<div class="card next"><h2>Try next</h2>
<p>Sign in from a second browser (or a private window) first, then change the password here: every other session of the account ends, {{if .Storage.ClientSide}}even though each lives in its browser's cookie: the server raises the account's epoch, and a cookie signed in under an earlier one is refused on its next request{{else}}their records deleted on the server{{end}}. The other browser's next page says why it was signed out. This browser stays signed in, with a new session id.</p>
</div>
{{end}}`
