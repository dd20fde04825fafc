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
import { handlers as sessionHandlers, runSessionRequest } from './session.mjs'

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

export const handlers = {
  ...sessionHandlers,
  async sessionRequest(req) {
    if (req.storage?.kind === 'memcache') return runSessionRequest(req, memcacheStorage(req.storage))
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
