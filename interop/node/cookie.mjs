// Helper process for the Go interop tests: the real @remix-run/cookie behind
// the JSON-lines protocol of protocol.mjs.
//
//   node cookie.mjs [extra-handlers.mjs ...]
//
// Every extra module must export `handlers` (op name -> async function); they
// are merged over the cookie handlers below, so a later session.mjs adds its
// ops without touching this file. Cookie ops:
//
//   {"op":"versions"}                                   -> {node, cookie, session, headers}
//   {"op":"serialize","name","options","value","props"?} -> Set-Cookie string
//   {"op":"parse","name","options","header"}             -> string or null
//   {"op":"parseSetCookie","header"}                     -> the attributes @remix-run/headers reads
//   {"op":"cookieInfo","name","options"}                 -> Cookie getters (signed, path, ...)
//
// "options" are createCookie options as JSON; "props" are serialize's
// per-call overrides. In both, "expires" is milliseconds since the epoch
// (a JSON number) and becomes a Date.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import { createCookie } from '@remix-run/cookie'
import { SetCookie } from '@remix-run/headers/set-cookie'
import { serve } from './protocol.mjs'

// toCookieOptions turns JSON options into createCookie options. Exported for
// session.mjs, which builds its session cookie the same way.
export function toCookieOptions(json) {
  const o = { ...(json ?? {}) }
  if (o.expires != null) o.expires = new Date(o.expires)
  return o
}

// makeCookie builds a Cookie from a request's name and options.
export function makeCookie(req) {
  if (typeof req.name !== 'string') throw new TypeError('name must be a string')
  return createCookie(req.name, toCookieOptions(req.options))
}

function packageVersion(name) {
  // Read package.json directly: resolving name/package.json works for
  // packages whose "exports" do not list it (headers).
  const require = createRequire(import.meta.url)
  const entry = require.resolve.paths(name)
    .map((dir) => resolve(dir, name, 'package.json'))
    .find((p) => { try { readFileSync(p); return true } catch { return false } })
  return entry ? JSON.parse(readFileSync(entry, 'utf8')).version : null
}

export const handlers = {
  async versions() {
    return {
      node: process.version,
      cookie: packageVersion('@remix-run/cookie'),
      session: packageVersion('@remix-run/session'),
      headers: packageVersion('@remix-run/headers'),
    }
  },
  async serialize(req) {
    if (typeof req.value !== 'string') throw new TypeError('value must be a string')
    const props = req.props == null ? undefined : toCookieOptions(req.props)
    return makeCookie(req).serialize(req.value, props)
  },
  async parse(req) {
    return makeCookie(req).parse(req.header ?? null)
  },
  async parseSetCookie(req) {
    const h = new SetCookie(req.header)
    return {
      name: h.name ?? null,
      value: h.value ?? null,
      domain: h.domain ?? null,
      expires: h.expires ? h.expires.getTime() : null,
      httpOnly: h.httpOnly ?? false,
      maxAge: h.maxAge ?? null,
      partitioned: h.partitioned ?? false,
      path: h.path ?? null,
      sameSite: h.sameSite ?? null,
      secure: h.secure ?? false,
    }
  },
  async cookieInfo(req) {
    const c = makeCookie(req)
    return {
      name: c.name,
      signed: c.signed,
      path: c.path,
      sameSite: c.sameSite,
      secure: c.secure ?? null,
      httpOnly: c.httpOnly ?? null,
      partitioned: c.partitioned,
      domain: c.domain ?? null,
      maxAge: c.maxAge ?? null,
    }
  },
}

// Run as a program. No top-level await here: handler modules import this
// one, and awaiting their import while this module is still evaluating
// would be a cycle that never settles.
async function main() {
  const all = { ...handlers }
  for (const file of process.argv.slice(2)) {
    const mod = await import(pathToFileURL(resolve(file)).href)
    if (!mod.handlers) throw new Error(`${file} exports no handlers`)
    Object.assign(all, mod.handlers)
  }
  await serve(all)
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
