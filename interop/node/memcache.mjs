// Memcache ops for the Go interop tests: the real
// @remix-run/session-storage-memcache behind the JSON-lines protocol of
// protocol.mjs. Load it with `node cookie.mjs memcache.mjs`
// (startRemix(t, "memcache.mjs") in Go); it brings session.mjs's ops along.
//
//   {"op":"sessionRequest", ..., "storage": {"kind":"memcache",
//     "server":"127.0.0.1:PORT", "keyPrefix"?, "ttlSeconds"?, "useUnknownIds"?}}
//
// runs one request exactly as session.mjs's sessionRequest does (same
// actions, same answer), on createMemcacheSessionStorage(server, options);
// other storage kinds go to session.mjs. Options left out are left out of
// the call too, so Remix's defaults apply. A storage is created once per
// distinct spec and kept.
//
//   {"op":"memcacheVersion"} -> the installed package's version
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { createMemcacheSessionStorage } from '@remix-run/session-storage-memcache'
import { makeCookie } from './cookie.mjs'
import { handlers as sessionHandlers } from './session.mjs'

const storages = new Map()

function memcacheStorage(spec) {
  if (typeof spec.server !== 'string') throw new TypeError('storage.server must be a string')
  const options = {}
  for (const k of ['keyPrefix', 'ttlSeconds', 'useUnknownIds']) {
    if (spec[k] != null) options[k] = spec[k]
  }
  const key = JSON.stringify([spec.server, options])
  if (!storages.has(key)) storages.set(key, createMemcacheSessionStorage(spec.server, options))
  return storages.get(key)
}

function describe(v) {
  return {
    present: v !== undefined,
    value: v === undefined ? null : v,
    json: v === undefined ? null : JSON.stringify(v),
    type: v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v,
  }
}

function actionValue(a) {
  return a.json != null ? JSON.parse(a.json) : a.value
}

// apply is session.mjs's action set (it does not export its own).
async function apply(session, a) {
  switch (a.do) {
    case 'get': return describe(session.get(a.key))
    case 'has': return session.has(a.key)
    case 'set': session.set(a.key, actionValue(a)); return null
    case 'flash': session.flash(a.key, actionValue(a)); return null
    case 'unset': session.unset(a.key); return null
    case 'regenerateId': session.regenerateId(Boolean(a.deleteOld)); return null
    case 'destroy': session.destroy(); return null
    case 'data': return JSON.stringify(session.data)
  }
  throw new TypeError(`unknown action ${JSON.stringify(a.do)}`)
}

async function memcacheRequest(req) {
  const cookie = makeCookie(req)
  const storage = memcacheStorage(req.storage)
  const cookieValue = req.header == null ? null : await cookie.parse(req.header)
  const session = await storage.read(cookieValue)
  const loaded = {
    id: session.id,
    dirty: session.dirty,
    size: session.size,
    data: JSON.stringify(session.data),
  }
  const results = []
  for (const a of req.actions ?? []) {
    try {
      results.push(await apply(session, a))
    } catch (err) {
      results.push({ error: String(err?.message ?? err) })
    }
  }
  const out = {
    cookieValue,
    loaded,
    results,
    id: session.id,
    deleteId: session.deleteId ?? null,
    destroyed: session.destroyed,
    dirty: session.dirty,
  }
  out.saved = await storage.save(session)
  out.setCookie = out.saved == null ? null : await cookie.serialize(out.saved)
  out.warnings = []
  return out
}

export const handlers = {
  ...sessionHandlers,
  async sessionRequest(req) {
    if (req.storage?.kind === 'memcache') return memcacheRequest(req)
    return sessionHandlers.sessionRequest(req)
  },
  async memcacheVersion() {
    const require = createRequire(import.meta.url)
    const main = require.resolve('@remix-run/session-storage-memcache')
    // dist/index.js -> the package folder
    const pkg = join(dirname(main), '..', 'package.json')
    return JSON.parse(readFileSync(pkg, 'utf8')).version
  },
}
