// The demo web chat (docs/demo.md): a page of the relay that logs in to it over WSS (RFC 7977), AUTHs (RFC 4976),
// and chats and sends files with MSRP (RFC 4975) through it. Plain ES module; the library is the browser bundle.
import { BrowserEndpoint, newWebSocketClientUri } from '/rx-msrp.mjs'

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id))

const ui = {
  state: $('state'),
  login: /** @type {HTMLFormElement} */ ($('login')),
  username: /** @type {HTMLInputElement} */ ($('username')),
  password: /** @type {HTMLInputElement} */ ($('password')),
  loginButton: /** @type {HTMLButtonElement} */ ($('login-button')),
  myPath: $('my-path'),
  copyPath: /** @type {HTMLButtonElement} */ ($('copy-path')),
  peer: /** @type {HTMLFormElement} */ ($('peer')),
  toPath: /** @type {HTMLInputElement} */ ($('to-path')),
  connectButton: /** @type {HTMLButtonElement} */ ($('connect-button')),
  messages: $('messages'),
  compose: /** @type {HTMLFormElement} */ ($('compose')),
  text: /** @type {HTMLInputElement} */ ($('text')),
  sendButton: /** @type {HTMLButtonElement} */ ($('send-button')),
  drop: $('drop'),
  file: /** @type {HTMLInputElement} */ ($('file')),
  transfers: $('transfers')
}

/** The current log-in: endpoint, session, registration, the peer's path; undefined before and after. */
let current

const MiB = 1024 * 1024
const formatBytes = (n) =>
  n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`
const splitPath = (text) =>
  text
    .trim()
    .split(/\s+/)
    .filter((u) => u !== '')
const headerOf = (message, name) =>
  message.head.request.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1]

function setState(state, text) {
  ui.state.dataset.state = state
  ui.state.textContent = text
}

/** Enables what makes sense in each phase: log in; exchange paths; chat. */
function setPhase(phase) {
  const loggedIn = phase !== 'out'
  const chatting = phase === 'chat'
  for (const el of [ui.username, ui.password, ui.loginButton]) el.disabled = loggedIn
  for (const el of [ui.toPath, ui.connectButton, ui.copyPath]) el.disabled = !loggedIn
  for (const el of [ui.text, ui.sendButton, ui.file]) el.disabled = !chatting
  ui.drop.dataset.enabled = String(chatting)
}

function note(text, kind = 'note') {
  const li = document.createElement('li')
  li.className = kind
  li.dataset.from = kind
  li.textContent = text
  ui.messages.append(li)
  li.scrollIntoView({ block: 'nearest' })
  return li
}

function chatLine(from, text) {
  const li = document.createElement('li')
  li.className = from
  li.dataset.from = from
  const who = document.createElement('span')
  who.className = 'who'
  who.textContent = from === 'me' ? 'You: ' : 'Peer: '
  const body = document.createElement('span')
  body.className = 'text'
  body.textContent = text
  const status = document.createElement('span')
  status.className = 'status'
  li.append(who, body, status)
  ui.messages.append(li)
  li.scrollIntoView({ block: 'nearest' })
  return { li, status: (s) => ((status.textContent = ` (${s})`), (li.dataset.status = s)) }
}

/** The relay's URI on this page's own origin: `msrps://HOST:PORT;ws` (the page was served by the WSS listener). */
function relayUri() {
  const port = location.port !== '' ? location.port : location.protocol === 'https:' ? '443' : '80'
  return `${location.protocol === 'https:' ? 'msrps' : 'msrp'}://${location.hostname}:${port};ws`
}

function disconnected(login, why) {
  if (current !== login) return
  current = undefined
  login.endpoint.close()
  setState('disconnected', `Relay disconnected${why ? `: ${why}` : ''}. Log in again to continue.`)
  note('Relay disconnected', 'note')
  setPhase('out')
}

async function logIn(username, password) {
  if (current !== undefined) {
    const old = current
    current = undefined
    old.endpoint.close()
  }
  setState('connecting', 'Connecting to the relay…')
  ui.loginButton.disabled = true
  const endpoint = new BrowserEndpoint()
  const session = endpoint.createSession(newWebSocketClientUri({ secure: location.protocol === 'https:' }))
  let registration
  try {
    registration = await endpoint.authenticate(session, relayUri(), {
      username,
      password,
      allowInsecure: location.protocol !== 'https:'
    })
  } catch (e) {
    endpoint.close()
    setState('failed', `Log-in failed: ${e instanceof Error ? e.message : String(e)}`)
    setPhase('out')
    return
  }
  const login = { endpoint, session, registration, peerPath: undefined }
  current = login
  ui.myPath.textContent = registration.path.join(' ')
  setState('connected', `Connected to the relay as ${username}`)
  setPhase('paths')
  registration.connection.transport.closed$.subscribe(() => disconnected(login))
  registration.events$.subscribe({ error: (e) => disconnected(login, e instanceof Error ? e.message : String(e)) })
  session.messages$.subscribe((m) => onMessage(login, m))
}

/** Connects the session to the peer's path (a bodiless SEND through the relay, RFC 4975 §5.4). */
async function connectTo(login, path) {
  await login.endpoint.connect(login.session, path)
  if (current !== login) return
  login.peerPath = path
  ui.toPath.value = path.join(' ')
  note(`Connected to ${path.join(' ')}`)
  setState('chatting', 'Connected to the relay and to a peer')
  setPhase('chat')
}

/**
 * The path to answer a message on: its From-Path without this session's own relay URIs in front (the relay pushed
 * them, RFC 4976 §6.4; `connect` puts them back as our Use-Path, R-5.1-4).
 */
function replyPath(login, message) {
  const from = splitPath(headerOf(message, 'From-Path') ?? '')
  const ours = login.registration.usePath.map((u) => u.toLowerCase())
  let i = 0
  while (i < from.length - 1 && ours.includes(from[i].toLowerCase())) i++
  return from.slice(i)
}

function onMessage(login, message) {
  if (current !== login) return
  // A peer that has not been answered yet is answered on its own path (the "SDP" of this demo is the From-Path).
  if (login.peerPath === undefined) {
    const path = replyPath(login, message)
    if (path.length > 0) {
      login.peerPath = path
      connectTo(login, path).catch((e) => note(`Cannot answer ${path.join(' ')}: ${e.message}`, 'error'))
    }
  }
  const disposition = headerOf(message, 'Content-Disposition')
  const type = message.contentType
  if (disposition === undefined && /^text\/plain\b/i.test(type)) return receiveText(message)
  return receiveFile(message, fileNameOf(disposition) ?? 'received.bin')
}

async function receiveText(message) {
  const line = chatLine('peer', '…')
  try {
    const bytes = await message.collect(1 * MiB)
    line.li.querySelector('.text').textContent = new TextDecoder().decode(bytes)
  } catch (e) {
    line.li.querySelector('.text').textContent = `(not received: ${e instanceof Error ? e.message : String(e)})`
  }
}

function fileNameOf(disposition) {
  if (disposition === undefined) return undefined
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition)
  if (star) {
    try {
      return decodeURIComponent(star[1].trim())
    } catch {
      // fall back to filename=
    }
  }
  const plain = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(disposition)
  return plain ? plain[1].replace(/\\(.)/g, '$1') : undefined
}

/** One row of the transfers list: name, size, a progress bar, a status, and a Cancel button or a download link. */
function transferRow(direction, name, total) {
  const li = document.createElement('li')
  li.dataset.direction = direction
  li.dataset.state = direction === 'out' ? 'sending' : 'receiving'
  const title = document.createElement('span')
  title.className = 'name'
  title.textContent = `${direction === 'out' ? 'Sending' : 'Receiving'} ${name}${total !== undefined ? ` (${formatBytes(total)})` : ''}`
  const bar = document.createElement('progress')
  bar.max = total !== undefined && total > 0 ? total : 1
  bar.value = 0
  bar.dataset.updates = '0'
  bar.setAttribute('aria-label', `${name} progress`)
  const status = document.createElement('span')
  status.className = 'status'
  status.textContent = direction === 'out' ? 'starting' : 'receiving'
  li.append(title, bar, status)
  ui.transfers.append(li)
  return {
    li,
    progress(value, text) {
      bar.value = value
      bar.dataset.updates = String(Number(bar.dataset.updates) + 1)
      status.textContent = text
    },
    finish(state, text) {
      li.dataset.state = state
      if (state === 'complete')
        title.textContent = title.textContent.replace(/^Sending|^Receiving/, (w) =>
          w === 'Sending' ? 'Sent' : 'Received'
        )
      status.textContent = text
      li.querySelector('button')?.remove()
    },
    append(...nodes) {
      li.append(...nodes)
    }
  }
}

async function receiveFile(message, name) {
  const total = message.total
  const row = transferRow('in', name, total)
  const parts = []
  let received = 0
  try {
    for await (const part of message.body) {
      parts.push(part)
      received += part.length
      row.progress(
        received,
        `received ${formatBytes(received)}${total !== undefined ? ` of ${formatBytes(total)}` : ''}`
      )
    }
  } catch {
    // the outcome says why
  }
  const outcome = await message.outcome
  if (outcome.type === 'complete') {
    const blob = new Blob(parts, { type: message.contentType || 'application/octet-stream' })
    const link = document.createElement('a')
    link.href = URL.createObjectURL(blob)
    link.download = name
    link.textContent = `Download ${name}`
    row.finish('complete', `received ${formatBytes(outcome.size)}`)
    row.append(link)
  } else if (outcome.type === 'aborted') {
    row.finish('cancelled', outcome.reason === 'Aborted' ? 'cancelled by the sender' : 'cancelled: connection lost')
  } else {
    row.finish('failed', `failed: ${outcome.status} ${outcome.reason}`)
  }
}

/** The file's bytes as an async iterable; stopping early (Cancel) cancels the read. */
async function* fileBytes(file) {
  const reader = file.stream().getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    reader.cancel().catch(() => undefined)
  }
}

/** `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): an ASCII name and the exact one. */
function dispositionOf(name) {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '\\$&')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`
}

function sendFile(file) {
  const login = current
  if (login?.peerPath === undefined) return
  const row = transferRow('out', file.name, file.size)
  const cancel = document.createElement('button')
  cancel.type = 'button'
  cancel.textContent = 'Cancel'
  cancel.setAttribute('aria-label', `Cancel ${file.name}`)
  row.append(cancel)
  const subscription = login.session
    .send(fileBytes(file), {
      size: file.size,
      contentType: file.type || 'application/octet-stream',
      headers: [['Content-Disposition', dispositionOf(file.name)]]
    })
    .subscribe({
      next: (e) => {
        if (e.type === 'progress') {
          row.progress(e.acknowledged, `sent ${formatBytes(e.sent)}, acknowledged ${formatBytes(e.acknowledged)}`)
        }
      },
      error: (e) => row.finish('failed', `failed: ${e instanceof Error ? e.message : String(e)}`),
      complete: () => row.finish('complete', `sent ${formatBytes(file.size)}`)
    })
  cancel.addEventListener('click', () => {
    subscription.unsubscribe() // aborts the message: its last chunk ends with `#` (RFC 4975 §7.1.1)
    row.finish('cancelled', 'cancelled')
  })
}

function sendText(text) {
  const login = current
  if (login?.peerPath === undefined || text === '') return
  const line = chatLine('me', text)
  line.status('sending')
  login.session.send(text).subscribe({
    error: (e) => line.status(`not delivered: ${e instanceof Error ? e.message : String(e)}`),
    complete: () => line.status('delivered')
  })
}

ui.login.addEventListener('submit', (event) => {
  event.preventDefault()
  void logIn(ui.username.value, ui.password.value)
})

ui.peer.addEventListener('submit', (event) => {
  event.preventDefault()
  const login = current
  const path = splitPath(ui.toPath.value)
  if (login === undefined || path.length === 0) return
  ui.connectButton.disabled = true
  connectTo(login, path)
    .catch((e) => note(`Cannot connect to ${path.join(' ')}: ${e instanceof Error ? e.message : String(e)}`, 'error'))
    .finally(() => (ui.connectButton.disabled = current === undefined))
})

ui.copyPath.addEventListener('click', () => {
  const text = ui.myPath.textContent ?? ''
  navigator.clipboard.writeText(text).then(
    () => setState(ui.state.dataset.state ?? 'connected', 'Your path is copied'),
    () => window.getSelection()?.selectAllChildren(ui.myPath)
  )
})

ui.compose.addEventListener('submit', (event) => {
  event.preventDefault()
  sendText(ui.text.value)
  ui.text.value = ''
  ui.text.focus()
})

ui.file.addEventListener('change', () => {
  for (const file of ui.file.files ?? []) sendFile(file)
  ui.file.value = ''
})

ui.drop.addEventListener('dragover', (event) => {
  event.preventDefault()
  ui.drop.dataset.active = 'true'
})
ui.drop.addEventListener('dragleave', () => (ui.drop.dataset.active = 'false'))
ui.drop.addEventListener('drop', (event) => {
  event.preventDefault()
  ui.drop.dataset.active = 'false'
  for (const file of event.dataTransfer?.files ?? []) sendFile(file)
})

setPhase('out')
setState('disconnected', 'Not connected: log in with the relay’s demo user')
