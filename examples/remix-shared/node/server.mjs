// The Remix half of examples/remix-shared: a small site on
// @remix-run/fetch-router with @remix-run/session-middleware in front,
// sharing one session cookie (and, with --storage redis, one Redis) with the
// Go app in ../goapp.
//
//   SESSION_SECRET=... node server.mjs --port 3000 --peer http://127.0.0.1:8080 \
//     [--storage cookie|redis] [--redis redis://127.0.0.1:6379] [--prefix session:]
//
// --port 0 picks a free port. The first line on stdout is
// "listening on http://127.0.0.1:PORT" once the server accepts connections
// (the Go test and the demo wait for it). SIGINT and SIGTERM close the server
// and the Redis connection and exit 0.
import * as http from 'node:http'
import { parseArgs } from 'node:util'
import { createCookie } from '@remix-run/cookie'
import { createRouter } from '@remix-run/fetch-router'
import { route } from '@remix-run/fetch-router/routes'
import { createRequestListener } from '@remix-run/node-fetch-server'
import { Session } from '@remix-run/session'
import { createCookieSessionStorage } from '@remix-run/session/cookie-storage'
import { session as sessionMiddleware } from '@remix-run/session-middleware'
import { createRedisSessionStorage } from '@remix-run/session-storage-redis'
import { createClient } from 'redis'

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    peer: { type: 'string', default: process.env.PEER_URL ?? 'http://127.0.0.1:8080' },
    storage: { type: 'string', default: process.env.SESSION_STORAGE ?? 'cookie' },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    prefix: { type: 'string', default: 'session:' },
    cookie: { type: 'string', default: 'session' },
    idle: { type: 'string', default: '1800' },
  },
})

// The settings both apps must agree on: cookie name, secrets (comma
// separated, the first signs), the Remix cookie format (the only one this
// package has), the Redis key prefix.
const secrets = (process.env.SESSION_SECRET ?? '').split(',').filter((s) => s !== '')
if (secrets.length === 0) {
  console.error('remix-shared: set SESSION_SECRET to the secret the Go app uses')
  process.exit(2)
}
const idleSeconds = Number(args.idle)
if (!Number.isInteger(idleSeconds) || idleSeconds <= 0) {
  console.error('remix-shared: --idle must be a positive number of seconds')
  process.exit(2)
}

const sessionCookie = createCookie(args.cookie, {
  secrets,
  httpOnly: true,
  sameSite: 'Lax',
  path: '/',
})

let redisClient = null
let storage
if (args.storage === 'cookie') {
  storage = createCookieSessionStorage()
} else if (args.storage === 'redis') {
  redisClient = createClient({ url: args.redis })
  redisClient.on('error', (err) => console.error('redis:', err.message))
  await redisClient.connect()
  // The Go side's idle timeout is the same number: the record lives that
  // long after its last write.
  storage = createRedisSessionStorage(redisClient, { keyPrefix: args.prefix, ttl: idleSeconds })
} else {
  console.error('remix-shared: --storage must be cookie or redis')
  process.exit(2)
}

// The accounts this demo accepts; a real app checks a password hash.
const users = new Map([['demo', 'password']])

const routes = route({
  home: { method: 'GET', pattern: '/' },
  whoami: { method: 'GET', pattern: '/whoami' },
  login: { method: 'POST', pattern: '/login' },
  logout: { method: 'POST', pattern: '/logout' },
  flash: { method: 'POST', pattern: '/flash' },
  regenerate: { method: 'POST', pattern: '/regenerate' },
})

// crossOriginProtection refuses unsafe requests that a browser marks as
// coming from another origin, as Go's http.CrossOriginProtection does on the
// Go side: the other app is another origin (another port), so neither can
// post forms to the other.
function crossOriginProtection(context, next) {
  if (context.method === 'GET' || context.method === 'HEAD' || context.method === 'OPTIONS') return next()
  const site = context.headers.get('Sec-Fetch-Site')
  if (site != null) {
    if (site === 'same-origin' || site === 'none') return next()
    return new Response('cross-origin request refused\n', { status: 403 })
  }
  const origin = context.headers.get('Origin')
  if (origin != null && origin !== context.url.origin) {
    return new Response('cross-origin request refused\n', { status: 403 })
  }
  return next()
}

const router = createRouter({
  middleware: [crossOriginProtection, sessionMiddleware(sessionCookie, storage)],
})

function redirect(to) {
  return new Response(null, { status: 303, headers: { Location: to } })
}

router.map(routes, {
  actions: {
    home({ get, url }) {
      return page(get(Session), url.host)
    },
    whoami({ get }) {
      const s = get(Session)
      return Response.json({ app: 'node', user: s.get('user') ?? '', session: shortID(s.id), storage: args.storage })
    },
    async login({ get, request }) {
      const s = get(Session)
      const form = await request.formData()
      const name = String(form.get('username') ?? '')
      const password = String(form.get('password') ?? '')
      if (!users.has(name) || users.get(name) !== password) {
        s.flash('error', 'Wrong username or password.')
        return redirect('/')
      }
      // A new id on sign-in: an id planted before it is worthless after it.
      s.regenerateId(true)
      s.set('user', name)
      s.flash('notice', `Welcome, ${name}! Signed in on the Node app.`)
      return redirect('/')
    },
    logout({ get }) {
      // Remix's destroy empties the cookie; a destroyed session cannot
      // carry a flash, so the page just shows a signed-out visitor.
      get(Session).destroy()
      return redirect('/')
    },
    async flash({ get, request }) {
      const form = await request.formData()
      // At most 200 characters (code points, as the Go app counts them).
      const message = Array.from(String(form.get('message') ?? '')).slice(0, 200).join('')
      get(Session).flash('notice', message === '' ? '(an empty flash)' : message)
      return redirect(form.get('show') === 'peer' ? args.peer + '/' : '/')
    },
    regenerate({ get }) {
      const s = get(Session)
      s.regenerateId(true)
      // The same text as the Go app's RegeneratedNotice.
      s.flash('notice', args.storage === 'cookie'
        ? 'New session id. A copy of the old cookie still works: cookie storage cannot delete it.'
        : 'New session id; the old one is deleted.')
      return redirect('/')
    },
  },
})

function shortID(id) {
  return id.slice(0, 8)
}

function escapeHTML(v) {
  return String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}

function page(s, host) {
  const user = s.get('user')
  const notice = s.get('notice')
  const error = s.get('error')
  const who = user
    ? `<p id="who" data-user="${escapeHTML(user)}">Signed in as <b>${escapeHTML(user)}</b></p>`
    : `<p id="who" data-user="">Signed-out visitor</p>`
  const account = user
    ? `<form method="post" action="/logout"><button id="logout">Sign out</button></form>`
    : `<form method="post" action="/login">
  <label>User <input name="username" id="username" value="demo" autocomplete="username"></label>
  <label>Password <input name="password" id="password" type="password" autocomplete="current-password"></label>
  <button id="login">Sign in</button> <small>(demo / password)</small>
</form>`
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Node app · remix-shared</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:40rem;padding:0 1rem;color:#222}
header{background:#1d4ed8;color:#fff;padding:.6rem 1rem;border-radius:.4rem}
.flash{padding:.5rem 1rem;border-radius:.4rem;background:#dcfce7}.error{background:#fee2e2}
form{margin:.8rem 0}code{background:#f3f4f6;padding:0 .3rem}small,.hint{color:#555}
</style></head>
<body>
<header><b>Node app</b> on ${escapeHTML(host)} — @remix-run/session-middleware, ${escapeHTML(args.storage)} storage</header>
<p class="hint">This app shares one session cookie with the <a href="${escapeHTML(args.peer)}/">Go app</a>:
sign in or set a flash here, then open the other; regenerate the id or sign out on either side.</p>
${notice != null ? `<p id="notice" class="flash">${escapeHTML(notice)}</p>` : ''}
${error != null ? `<p id="error" class="flash error">${escapeHTML(error)}</p>` : ''}
${who}
<p>Session id <code id="sid">${escapeHTML(shortID(s.id))}</code>…</p>
${account}
<form method="post" action="/flash">
  <label>Flash <input name="message" id="message" value="Hello from Node"></label>
  <button name="show" value="self" id="flash-self">Show here</button>
  <button name="show" value="peer" id="flash-peer">Show on the Go app</button>
</form>
<form method="post" action="/regenerate"><button id="regenerate">Regenerate the id</button></form>
<p><a id="peer" href="${escapeHTML(args.peer)}/">Open the Go app</a></p>
</body></html>
`
  return new Response(html, { headers: { 'Content-Type': 'text/html; charset=utf-8' } })
}

const server = http.createServer(createRequestListener((request) => router.fetch(request)))
server.listen(Number(args.port), args.host, () => {
  const { port } = server.address()
  console.log(`listening on http://${args.host}:${port}`)
})

async function shutdown() {
  server.close()
  server.closeAllConnections?.()
  if (redisClient != null) await redisClient.close().catch(() => {})
  process.exit(0)
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
