/**
 * The demo web chat of `rx-msrp relay` (docs/demo.md): a request handler for the relay's HTTPS (WSS) server that
 * serves the page's static files and the browser bundle, and nothing else. The page then opens its MSRP WebSocket to
 * the same origin (RFC 7977), so the relay's Origin check and the Content-Security-Policy below both hold.
 *
 * ```text
 * GET /  /index.html   index.html   text/html          GET /chat.js      chat.js        text/javascript
 * GET /chat.css        chat.css     text/css           GET /rx-msrp.mjs  the bundle     text/javascript
 * anything else: 404; a method other than GET or HEAD: 405
 * ```
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type * as http from 'node:http'
import { join, resolve } from 'node:path'

/**
 * The Content-Security-Policy of every demo response: scripts, styles and connections from the page's own origin only
 * (`connect-src 'self'` covers `wss://` to the same host and port, CSP Level 3), blob: for received files, no
 * inline script or style, no framing, no form posts.
 */
export const DEMO_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

/** The static files of the page, by URL path: the file name in the assets folder and its Content-Type. */
export const DEMO_FILES: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/chat.css': { file: 'chat.css', type: 'text/css; charset=utf-8' },
  '/chat.js': { file: 'chat.js', type: 'text/javascript; charset=utf-8' }
}

/** The URL path of the browser bundle, which chat.js imports. */
export const DEMO_BUNDLE_PATH = '/rx-msrp.mjs'

/** Options of {@link demoRequestHandler}. */
export interface DemoOptions {
  /** Where index.html, chat.css and chat.js are. Default: {@link defaultDemoAssetsDir}. */
  readonly assetsDir?: string
  /** The browser bundle (an ES module) served as `/rx-msrp.mjs`. Default: `dist/browser/rx-msrp.mjs` of the package. */
  readonly bundlePath?: string
}

/**
 * The folder of the page's files: this module's own folder when they are there (`dist/relay/demo`, where the build
 * copies them, or `src/relay/demo` when run from source), else the package's `src/relay/demo`.
 */
export function defaultDemoAssetsDir(): string {
  if (existsSync(join(__dirname, 'index.html'))) return __dirname
  return resolve(__dirname, '..', '..', '..', 'src', 'relay', 'demo')
}

/** The default bundle: the package's `dist/browser/rx-msrp.mjs` (from `dist/relay/demo` or `src/relay/demo`). */
export function defaultDemoBundlePath(): string {
  return resolve(__dirname, '..', '..', '..', 'dist', 'browser', 'rx-msrp.mjs')
}

/** Headers of every demo response. @internal */
const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  'Content-Security-Policy': DEMO_CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin'
}

/** A plain-text answer. @internal */
function answer(response: http.ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  response.writeHead(status, {
    ...COMMON_HEADERS,
    ...extra,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text)
  })
  response.end(text)
}

/**
 * A `request` listener for an HTTP(S) server that serves the demo page: `GET`/`HEAD` of `/` (and `/index.html`),
 * `/chat.css`, `/chat.js` and `/rx-msrp.mjs` (the browser bundle), each with its Content-Type, `Cache-Control:
 * no-store` and {@link DEMO_CONTENT_SECURITY_POLICY}; 404 for any other path, 405 for other methods. Files are read at
 * each request (a rebuilt bundle is served at once); one that cannot be read is a 500 naming it (for the bundle: how
 * to build it). WebSocket upgrades are not requests: `listenWebSocket` attached to the same server takes them.
 */
export function demoRequestHandler(
  options: DemoOptions = {}
): (request: http.IncomingMessage, response: http.ServerResponse) => void {
  const assetsDir = options.assetsDir ?? defaultDemoAssetsDir()
  const bundlePath = options.bundlePath ?? defaultDemoBundlePath()
  return (request, response) => {
    const path = (request.url ?? '/').split(/[?#]/)[0] ?? '/'
    const asset = Object.prototype.hasOwnProperty.call(DEMO_FILES, path) ? DEMO_FILES[path] : undefined
    const target =
      asset !== undefined
        ? { path: join(assetsDir, asset.file), type: asset.type }
        : path === DEMO_BUNDLE_PATH
          ? { path: bundlePath, type: 'text/javascript; charset=utf-8' }
          : undefined
    if (target === undefined) return answer(response, 404, `not found: ${path}\n`)
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return answer(response, 405, 'method not allowed\n', { Allow: 'GET, HEAD' })
    }
    readFile(target.path).then(
      (body) => {
        response.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': target.type, 'Content-Length': body.length })
        response.end(request.method === 'HEAD' ? undefined : body)
      },
      (e: unknown) => {
        const why = e instanceof Error ? e.message : String(e)
        const hint = path === DEMO_BUNDLE_PATH ? ' (build it: npm run build:browser)' : ''
        answer(response, 500, `cannot read ${target.path}${hint}: ${why}\n`)
      }
    )
  }
}
