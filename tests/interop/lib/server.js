'use strict';
// Test harness: starts the dicomstore binary for one test file, builds the official
// @googleapis/healthcare client against it, and offers small helpers for raw HTTP and for
// asserting the JSON error envelope (spec §3.1).
//
// Server contract used here:
//   $DICOMSTORE_BIN serve --listen 127.0.0.1:0 --data DIR [--gcs-root DIR]
//   prints exactly one line on stdout when ready: "listening on 127.0.0.1:<port>";
//   access log on stderr; SIGTERM -> drains and exits 0.

const assert = require('node:assert/strict');
const {spawn} = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {before, after} = require('node:test');
const {healthcare, auth} = require('@googleapis/healthcare');

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 15_000;
const STDERR_KEEP = 64 * 1024;

const TOKEN = 'interop-dummy-token';
const PROJECT = 'interop-project';
const LOCATION = 'us-central1';
const PARENT = `projects/${PROJECT}/locations/${LOCATION}`;

function binaryPath() {
  const bin = process.env.DICOMSTORE_BIN;
  if (!bin) throw new Error('DICOMSTORE_BIN is not set (absolute path to build/dicomstore)');
  if (!fs.existsSync(bin)) throw new Error(`DICOMSTORE_BIN=${bin} does not exist`);
  return bin;
}

function makeTempDir(prefix = 'dicomstore-interop-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function removeDir(dir) {
  if (dir) fs.rmSync(dir, {recursive: true, force: true});
}

// Live child processes, killed hard if the test process goes away without stopping them.
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

// Starts one server process. Resolves to a handle once the "listening on" line arrived.
function startServer({dataDir, args = [], timeoutMs = START_TIMEOUT_MS} = {}) {
  const bin = binaryPath();
  const argv = ['serve', '--listen', '127.0.0.1:0', '--data', dataDir, ...args];
  const child = spawn(bin, argv, {stdio: ['ignore', 'pipe', 'pipe']});
  live.add(child);
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
  });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => { live.delete(child); resolve({code, signal}); });
  });
  const handle = {
    child, dataDir, args, port: 0, base: '', exited, stopped: false,
    stderr: () => stderr,
    stdout: () => stdout,
    diag() {
      return `\n--- dicomstore ${argv.join(' ')}\n--- stdout:\n${stdout}\n--- stderr (tail):\n${stderr.slice(-4000)}`;
    },
  };
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        try { child.kill('SIGKILL'); } catch { /* gone */ }
        reject(new Error(`${err.message}${handle.diag()}`));
      } else {
        resolve(handle);
      }
    };
    const timer = setTimeout(() => finish(new Error(`server did not print "listening on" within ${timeoutMs} ms`)), timeoutMs);
    child.on('error', (e) => finish(new Error(`spawn failed: ${e.message}`)));
    exited.then(({code, signal}) => finish(new Error(`server exited before ready (code ${code}, signal ${signal})`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      stdout += d;
      if (done) return;
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      const line = stdout.slice(0, nl).replace(/\r$/, '');
      const m = /^listening on 127\.0\.0\.1:(\d+)$/.exec(line);
      if (!m || Number(m[1]) <= 0 || Number(m[1]) > 65535) {
        finish(new Error(`unexpected first stdout line: ${JSON.stringify(line)}`));
        return;
      }
      handle.port = Number(m[1]);
      handle.base = `http://127.0.0.1:${handle.port}`;
      finish(null);
    });
  });
}

// Sends SIGTERM once (a second SIGTERM could mean "stop now" to the server).
function terminate(handle) {
  if (handle.termSent) return;
  handle.termSent = true;
  if (handle.child.exitCode === null && handle.child.signalCode === null) {
    handle.child.kill('SIGTERM');
  }
}

// SIGTERM, wait for exit (bounded), and return {code, signal}. Kills hard on timeout.
async function stopServer(handle, {timeoutMs = STOP_TIMEOUT_MS} = {}) {
  if (handle.stopped) return handle.exitStatus;
  handle.stopped = true;
  terminate(handle);
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
  const status = await Promise.race([handle.exited, timeout]);
  clearTimeout(timer);
  if (status === null) {
    handle.child.kill('SIGKILL');
    await handle.exited;
    throw new Error(`server did not exit within ${timeoutMs} ms of SIGTERM${handle.diag()}`);
  }
  handle.exitStatus = status;
  return status;
}

async function stopAndCheck(handle) {
  const status = await stopServer(handle);
  assert.equal(status.signal, null, `server died by signal ${status.signal}${handle.diag()}`);
  assert.equal(status.code, 0, `server exit code after SIGTERM${handle.diag()}`);
}

// Official client, pointed at the server, with a static bearer token and no retries.
function makeClient(base) {
  const oauth = new auth.OAuth2();
  oauth.setCredentials({access_token: TOKEN});
  return healthcare({
    version: 'v1',
    rootUrl: base + '/',
    auth: oauth,
    retry: false,
    timeout: REQUEST_TIMEOUT_MS,
  });
}

// Per-file fixture: registers before/after hooks that start the server on a fresh temp data
// dir and stop it (asserting exit code 0) and remove the dir. `fx.restart()` restarts on the
// same data dir (new port; `fx.hc` and `fx.base` are refreshed). `setup(fx)` runs inside the
// same before hook once the server is up (Node 20 runs separate root-level before hooks
// concurrently, so a second hook could not rely on the server being started).
function useServer({args = [], setup} = {}) {
  const fx = {
    handle: null, dataDir: null, hc: null, base: '',
    get datasets() { return fx.hc.projects.locations.datasets; },
    get stores() { return fx.hc.projects.locations.datasets.dicomStores; },
    get operations() { return fx.hc.projects.locations.datasets.operations; },
    async start() {
      fx.handle = await startServer({dataDir: fx.dataDir, args});
      fx.base = fx.handle.base;
      fx.hc = makeClient(fx.base);
    },
    async stop() { await stopAndCheck(fx.handle); },
    async restart() { await fx.stop(); await fx.start(); },
    raw: (method, p, opts) => rawRequest(fx.base, method, p, opts),
    diag: () => (fx.handle ? fx.handle.diag() : ''),
  };
  before(async () => {
    fx.dataDir = makeTempDir();
    await fx.start();
    if (setup) await setup(fx);
  });
  after(async () => {
    try {
      if (fx.handle) await fx.stop();
    } finally {
      removeDir(fx.dataDir);
    }
  });
  return fx;
}

// Raw HTTP via the global fetch. `body` may be a string/Buffer (sent as is) or an object
// (JSON-encoded). Returns {status, headers, text, json} (json undefined if not JSON).
async function rawRequest(base, method, p, {body, headers = {}, timeoutMs = REQUEST_TIMEOUT_MS} = {}) {
  // A header given as null is not sent (e.g. {authorization: null}).
  const h = {authorization: `Bearer ${TOKEN}`, ...headers};
  for (const k of Object.keys(h)) if (h[k] === null || h[k] === undefined) delete h[k];
  let payload;
  if (body !== undefined) {
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      payload = body;
    } else {
      payload = JSON.stringify(body);
    }
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
  }
  const res = await fetch(base + p, {method, headers: h, body: payload, signal: AbortSignal.timeout(timeoutMs)});
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return {status: res.status, headers: res.headers, text, json};
}

// Asserts `body` is the JSON error envelope with the given HTTP code and status name.
function assertEnvelope(body, httpCode, status, context = '') {
  assert.ok(body && typeof body === 'object', `${context} error body is not JSON: ${JSON.stringify(body)}`);
  assert.ok(body.error && typeof body.error === 'object', `${context} no "error" object: ${JSON.stringify(body)}`);
  assert.equal(body.error.code, httpCode, `${context} error.code: ${JSON.stringify(body)}`);
  if (status) assert.equal(body.error.status, status, `${context} error.status: ${JSON.stringify(body)}`);
  assert.equal(typeof body.error.message, 'string', `${context} error.message: ${JSON.stringify(body)}`);
  assert.ok(body.error.message.length > 0, `${context} error.message is empty`);
}

// Awaits a client call that must fail with `httpCode`/`status`; returns the error.
async function expectApiError(promiseOrFn, httpCode, status, context = '') {
  let res;
  try {
    res = await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (e) {
    if (!e.response) throw new Error(`${context} expected HTTP ${httpCode} ${status || ''}, got a transport error: ${e.message}`);
    assert.equal(e.response.status, httpCode,
        `${context} HTTP status (body ${JSON.stringify(e.response.data)})`);
    assertEnvelope(e.response.data, httpCode, status, context);
    return e;
  }
  assert.fail(`${context} expected HTTP ${httpCode} ${status || ''}, got ${res && res.status}: ${JSON.stringify(res && res.data)}`);
}

// Raw response must be the error envelope with this code and status.
function assertRawError(res, httpCode, status, context = '') {
  assert.equal(res.status, httpCode, `${context} HTTP status (body ${res.text.slice(0, 500)})`);
  const ct = res.headers.get('content-type') || '';
  assert.match(ct, /^application\/json/, `${context} error content-type`);
  assertEnvelope(res.json, httpCode, status, context);
}

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function assertTimestamp(value, what) {
  assert.equal(typeof value, 'string', `${what} is not a string: ${JSON.stringify(value)}`);
  assert.match(value, RFC3339_UTC, `${what} is not RFC 3339 UTC`);
  const t = Date.parse(value);
  assert.ok(Number.isFinite(t), `${what} does not parse`);
  // Loopback server on this machine: its clock is ours.
  assert.ok(Math.abs(t - Date.now()) < 10 * 60 * 1000, `${what}=${value} is not near now`);
  return t;
}

const datasetName = (id, parent = PARENT) => `${parent}/datasets/${id}`;
const storeName = (ds, id, parent = PARENT) => `${datasetName(ds, parent)}/dicomStores/${id}`;

// Lists every page, checking the nextPageToken contract; returns {items, pages}.
async function listAll(fn, params, itemsKey, {maxPages = 100} = {}) {
  const items = [];
  const pages = [];
  let pageToken;
  for (let i = 0; i < maxPages; i++) {
    const r = await fn({...params, ...(pageToken ? {pageToken} : {})});
    assert.equal(r.status, 200);
    pages.push(r.data);
    items.push(...(r.data[itemsKey] || []));
    if (!('nextPageToken' in r.data)) return {items, pages};
    assert.equal(typeof r.data.nextPageToken, 'string');
    assert.ok(r.data.nextPageToken.length > 0, 'nextPageToken present but empty (must be absent on last page)');
    pageToken = r.data.nextPageToken;
  }
  assert.fail(`more than ${maxPages} pages`);
}

module.exports = {
  TOKEN, PROJECT, LOCATION, PARENT,
  binaryPath, makeTempDir, removeDir, startServer, terminate, stopServer, stopAndCheck, makeClient, useServer,
  rawRequest, assertEnvelope, expectApiError, assertRawError, assertTimestamp, RFC3339_UTC,
  datasetName, storeName, listAll,
};
