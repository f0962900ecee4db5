'use strict';
// DICOMweb helpers for the interop tests: corpus listing (MANIFEST.tsv, MANIFEST-json,
// INDEX.tsv), multipart/related encode/decode, STOW/QIDO/WADO wrappers over raw fetch, DICOM
// JSON accessors, and runners for dcmdump and the small pydicom helpers in ../py.
//
// The corpus is found via $DICOMSTORE_CORPUS or `<repo>/../shared/corpus`; it is only read.

const assert = require('node:assert/strict');
const {execFile} = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const {TOKEN, PARENT, datasetName, storeName} = require('./server');

const REQUEST_TIMEOUT_MS = 60_000;
const PYTHON = '/usr/bin/python3';
const PY_DIR = path.join(__dirname, '..', 'py');

const TS = {
  IMPLICIT_LE: '1.2.840.10008.1.2',
  EXPLICIT_LE: '1.2.840.10008.1.2.1',
  DEFLATED: '1.2.840.10008.1.2.1.99',
  EXPLICIT_BE: '1.2.840.10008.1.2.2',
  JPEG_BASELINE: '1.2.840.10008.1.2.4.50',
  RLE: '1.2.840.10008.1.2.5',
};
const NATIVE_TS = new Set([TS.IMPLICIT_LE, TS.EXPLICIT_LE, TS.DEFLATED, TS.EXPLICIT_BE]);

// ---------------------------------------------------------------------------------------------
// Corpus

function corpusDir() {
  const env = process.env.DICOMSTORE_CORPUS;
  // lib/ -> interop/ -> tests/ -> <repo>/ -> <repo>/../shared/corpus
  const dir = env ? path.resolve(env) : path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'corpus');
  if (!fs.existsSync(path.join(dir, 'MANIFEST.tsv'))) {
    throw new Error(`DICOM corpus not found at ${dir} (set DICOMSTORE_CORPUS)`);
  }
  return dir;
}

function parseTsv(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  const header = lines[0].split('\t');
  return lines.slice(1).map((l) => {
    const cells = l.split('\t');
    const row = {};
    header.forEach((h, i) => { row[h] = cells[i] === undefined ? '' : cells[i]; });
    return row;
  });
}

let manifestCache;
// Every corpus file: MANIFEST.tsv columns plus `valid` (MANIFEST-json exists), `expected` (the
// study-level JSON), `index` (INDEX.tsv row), `path`, and numeric helpers.
function corpus() {
  if (manifestCache) return manifestCache;
  const dir = corpusDir();
  const index = new Map(parseTsv(path.join(dir, 'MANIFEST-json', 'INDEX.tsv')).map((r) => [r.file, r]));
  manifestCache = parseTsv(path.join(dir, 'MANIFEST.tsv')).map((r) => {
    const jsonPath = path.join(dir, 'MANIFEST-json', `${r.file}.json`);
    const valid = fs.existsSync(jsonPath);
    return {
      ...r,
      path: path.join(dir, 'dicom', r.file),
      valid,
      expected: valid ? JSON.parse(fs.readFileSync(jsonPath, 'utf8')) : null,
      index: index.get(r.file) || null,
      size: Number(r.size_bytes),
    };
  });
  return manifestCache;
}

function corpusEntry(file) {
  const e = corpus().find((r) => r.file === file);
  if (!e) throw new Error(`no corpus file ${file}`);
  return e;
}

// Reads a corpus file (read-only) and caches its bytes.
const bytesCache = new Map();
function corpusBytes(file) {
  if (!bytesCache.has(file)) bytesCache.set(file, fs.readFileSync(corpusEntry(file).path));
  return bytesCache.get(file);
}

// Copies corpus files into `dir` (tools that want a path get the copy, never the original).
function copyCorpusFiles(files, dir) {
  return files.map((f) => {
    const dst = path.join(dir, f);
    fs.copyFileSync(corpusEntry(f).path, dst);
    return dst;
  });
}

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

// ---------------------------------------------------------------------------------------------
// Media types and multipart/related

// Parses `type/subtype; a=b; c="d"` -> {type: 'type/subtype', params: {a: 'b', c: 'd'}}.
function parseMediaType(value) {
  const s = String(value || '');
  let i = s.indexOf(';');
  const type = (i < 0 ? s : s.slice(0, i)).trim().toLowerCase();
  const params = {};
  while (i >= 0 && i < s.length) {
    i++;
    while (i < s.length && /[ \t]/.test(s[i])) i++;
    const eq = s.indexOf('=', i);
    if (eq < 0) break;
    const name = s.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    let val = '';
    if (s[j] === '"') {
      j++;
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\' && j + 1 < s.length) j++;
        val += s[j++];
      }
      j = s.indexOf(';', j);
    } else {
      const end = s.indexOf(';', j);
      val = (end < 0 ? s.slice(j) : s.slice(j, end)).trim();
      j = end;
    }
    params[name] = val;
    i = j;
    if (i < 0) break;
  }
  return {type, params};
}

function randomBoundary() {
  return `interop-${crypto.randomBytes(12).toString('hex')}`;
}

// parts: [{body: Buffer, contentType?: string, headers?: object}]
function encodeMultipart(parts, {boundary = randomBoundary(), type = 'application/dicom', partType = 'application/dicom'} = {}) {
  const chunks = [];
  for (const p of parts) {
    const headers = {'Content-Type': p.contentType === undefined ? partType : p.contentType, ...(p.headers || {})};
    let head = `--${boundary}\r\n`;
    for (const [k, v] of Object.entries(headers)) if (v !== null) head += `${k}: ${v}\r\n`;
    chunks.push(Buffer.from(head + '\r\n'), p.body, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {body: Buffer.concat(chunks), contentType: `multipart/related; type="${type}"; boundary=${boundary}`, boundary};
}

// Decodes a multipart body. Strict about framing: asserts the opening delimiter and the close
// delimiter. Returns [{headers: {lowercased: value}, body: Buffer}].
function decodeMultipart(buf, contentType) {
  const {type, params} = parseMediaType(contentType);
  assert.equal(type, 'multipart/related', `response Content-Type ${contentType}`);
  assert.ok(params.boundary, `no boundary in ${contentType}`);
  const delim = Buffer.from(`--${params.boundary}`);
  const parts = [];
  let pos = buf.indexOf(delim);
  assert.ok(pos >= 0, 'multipart body has no opening delimiter');
  assert.ok(buf.subarray(0, pos).toString('latin1').trim() === '', 'non-whitespace preamble before the first delimiter');
  for (;;) {
    pos += delim.length;
    if (buf[pos] === 0x2d && buf[pos + 1] === 0x2d) break; // close delimiter
    // skip transport padding and CRLF after the delimiter
    while (buf[pos] === 0x20 || buf[pos] === 0x09) pos++;
    assert.ok(buf[pos] === 0x0d && buf[pos + 1] === 0x0a, 'CRLF expected after boundary');
    pos += 2;
    let headers = {};
    let bodyStart;
    if (buf[pos] === 0x0d && buf[pos + 1] === 0x0a) {
      bodyStart = pos + 2; // a part without headers
    } else {
      const headEnd = buf.indexOf('\r\n\r\n', pos);
      assert.ok(headEnd >= 0, 'part headers not terminated');
      headers = Object.fromEntries(buf.subarray(pos, headEnd).toString('latin1').split('\r\n').map((l) => {
        const c = l.indexOf(':');
        return [l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim()];
      }));
      bodyStart = headEnd + 4;
    }
    const next = buf.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), bodyStart);
    assert.ok(next >= 0, 'part is not terminated by a delimiter');
    parts.push({headers, body: buf.subarray(bodyStart, next)});
    pos = next + 2;
  }
  return parts;
}

// ---------------------------------------------------------------------------------------------
// HTTP

// Binary-safe request. Returns {status, headers, buf, text, json}; text/json are lazy.
async function http(base, method, p, {body, headers = {}, timeoutMs = REQUEST_TIMEOUT_MS} = {}) {
  const h = {authorization: `Bearer ${TOKEN}`, ...headers};
  for (const k of Object.keys(h)) if (h[k] === null || h[k] === undefined) delete h[k];
  const init = {method, headers: h, signal: AbortSignal.timeout(timeoutMs)};
  if (body !== undefined) {
    init.body = body;
    if (typeof body.pipe === 'function' || typeof body.getReader === 'function') init.duplex = 'half';
  }
  const res = await fetch(base + p, init);
  const buf = Buffer.from(await res.arrayBuffer());
  const out = {status: res.status, headers: res.headers, buf};
  Object.defineProperty(out, 'text', {get: () => buf.toString('utf8')});
  Object.defineProperty(out, 'json', {
    get: () => { try { return JSON.parse(buf.toString('utf8')); } catch { return undefined; } },
  });
  out.contentType = res.headers.get('content-type') || '';
  return out;
}

function describe(res) {
  return `HTTP ${res.status} ${res.contentType} ${res.buf.subarray(0, 600).toString('utf8')}`;
}

// A DICOM store inside the fixture's server. `path` is the REST name; `web` the DICOMweb root
// (relative to fx.base).
class Store {
  constructor(fx, dataset, id) {
    this.fx = fx;
    this.dataset = dataset;
    this.id = id;
    this.name = storeName(dataset, id);
    this.web = `/v1/${this.name}/dicomWeb`;
  }

  static async create(fx, dataset, id) {
    const ds = await http(fx.base, 'GET', `/v1/${datasetName(dataset)}`);
    if (ds.status === 404) {
      const r = await http(fx.base, 'POST', `/v1/${PARENT}/datasets?datasetId=${encodeURIComponent(dataset)}`,
          {body: '{}', headers: {'content-type': 'application/json'}});
      assert.equal(r.status, 200, `create dataset ${dataset}: ${describe(r)}`);
    }
    const r = await http(fx.base, 'POST', `/v1/${datasetName(dataset)}/dicomStores?dicomStoreId=${encodeURIComponent(id)}`,
        {body: '{}', headers: {'content-type': 'application/json'}});
    assert.equal(r.status, 200, `create store ${id}: ${describe(r)}`);
    return new Store(fx, dataset, id);
  }

  url(rel = '') { return this.fx.base + this.web + (rel ? `/${rel}` : ''); }
  req(method, rel, opts) { return http(this.fx.base, method, this.web + (rel ? `/${rel}` : ''), opts); }

  // STOW of Part-10 buffers as one multipart request (or single part when `single`).
  // Returns the raw response plus the parsed JSON body.
  async stow(buffers, {study, single = false, accept = 'application/dicom+json', timeoutMs} = {}) {
    const rel = study ? `studies/${study}` : 'studies';
    let body;
    let contentType;
    if (single) {
      assert.equal(buffers.length, 1);
      body = buffers[0];
      contentType = 'application/dicom';
    } else {
      ({body, contentType} = encodeMultipart(buffers.map((b) => ({body: b}))));
    }
    const headers = {'content-type': contentType};
    if (accept) headers.accept = accept;
    const res = await this.req('POST', rel, {body, headers, timeoutMs});
    return res;
  }

  // QIDO: `rel` like 'studies' or 'studies/1.2/series'; query as object (arrays repeat) or string.
  async qido(rel, query = {}, {headers} = {}) {
    const res = await this.req('GET', rel + queryString(query), {headers});
    if (res.status === 200) {
      assert.match(res.contentType, /^application\/dicom\+json/, `QIDO ${rel} content-type`);
      assert.ok(Array.isArray(res.json), `QIDO ${rel} body is not a JSON array: ${describe(res)}`);
    } else if (res.status === 204) {
      assert.equal(res.buf.length, 0, `204 with a body: ${describe(res)}`);
    }
    return res;
  }

  // QIDO that must succeed: returns the array ([] on 204).
  async search(rel, query = {}) {
    const res = await this.qido(rel, query);
    assert.ok(res.status === 200 || res.status === 204, `QIDO ${rel}${queryString(query)}: ${describe(res)}`);
    return res.status === 204 ? [] : res.json;
  }

  instancePath(study, series, sop) { return `studies/${study}/series/${series}/instances/${sop}`; }

  // WADO instance as stored (single part in a multipart response). Returns the Part-10 bytes.
  async retrieveInstance(study, series, sop, {accept = 'multipart/related; type="application/dicom"; transfer-syntax=*', timeoutMs} = {}) {
    const res = await this.req('GET', this.instancePath(study, series, sop), {headers: {accept}, timeoutMs});
    assert.equal(res.status, 200, `retrieve ${sop}: ${describe(res)}`);
    const parts = decodeMultipart(res.buf, res.contentType);
    assert.equal(parts.length, 1, `retrieve ${sop}: number of parts`);
    return {res, parts, bytes: parts[0].body};
  }
}

function queryString(query) {
  if (typeof query === 'string') return query ? (query.startsWith('?') ? query : `?${query}`) : '';
  const pairs = [];
  for (const [k, v] of Object.entries(query)) {
    for (const one of Array.isArray(v) ? v : [v]) pairs.push(`${encodeURIComponent(k)}=${encodeURIComponent(one)}`);
  }
  return pairs.length ? `?${pairs.join('&')}` : '';
}

// ---------------------------------------------------------------------------------------------
// DICOM JSON

const attr = (ds, tag) => (ds ? ds[tag] : undefined);
function values(ds, tag) {
  const a = attr(ds, tag);
  return a && Array.isArray(a.Value) ? a.Value : [];
}
const first = (ds, tag) => values(ds, tag)[0];
const str = (ds, tag) => {
  const v = first(ds, tag);
  return v && typeof v === 'object' ? v.Alphabetic : v;
};

// STOW response (DICOM JSON) -> {retrieveUrl, referenced: [{classUid, sopUid, url}], failed: [{classUid, sopUid, reason, detail}]}
function stowResult(res) {
  assert.match(res.contentType, /^application\/dicom\+json/, `STOW response content-type: ${describe(res)}`);
  const body = res.json;
  assert.ok(body && typeof body === 'object' && !Array.isArray(body), `STOW response body: ${describe(res)}`);
  return {
    retrieveUrl: first(body, '00081190'),
    referenced: values(body, '00081199').map((it) => ({
      classUid: first(it, '00081150'), sopUid: first(it, '00081155'), url: first(it, '00081190'), item: it,
    })),
    failed: values(body, '00081198').map((it) => ({
      classUid: first(it, '00081150'), sopUid: first(it, '00081155'), reason: first(it, '00081197'),
      detail: first(it, '00091097'), item: it,
    })),
    body,
  };
}

// ---------------------------------------------------------------------------------------------
// External tools

function run(cmd, args, {input, timeoutMs = 60_000, maxBuffer = 64 * 1024 * 1024} = {}) {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, {timeout: timeoutMs, maxBuffer, encoding: 'utf8'}, (err, stdout, stderr) => {
      resolve({code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, signal: err && err.signal, stdout, stderr, err});
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

// Runs py/<script> with the Debian python3 (pydicom 2.3.1); stdin = input; returns parsed JSON stdout.
async function py(script, args = [], {input, timeoutMs = 120_000} = {}) {
  const r = await run(PYTHON, [path.join(PY_DIR, script), ...args], {input, timeoutMs});
  assert.equal(r.code, 0, `${script} ${args.join(' ')} failed (${r.code} ${r.signal || ''}):\n${r.stderr.slice(-3000)}`);
  return JSON.parse(r.stdout);
}

// Synthetic instances: py/make_instances.py writes one template, whose fixed-width UIDs
// (ROOT.1.1NNNNNN study, ROOT.2.1NNNNNN series, ROOT.3.1NNNNNN SOP) are rewritten in place
// (same length, so the file stays valid). Returns [{bytes, study, series, sop}], instance i in
// study floor(i / perStudy), one series per study.
async function synthesize(n, root, {perStudy = 1, patient = 'Synthetic^Instance', dir} = {}) {
  assert.ok(n <= 9_000_000 && /^[0-9.]+$/.test(root));
  const [t] = await py('make_instances.py', ['1', dir, root, '--patient', patient]);
  const template = fs.readFileSync(t.file);
  const uid = (kind, k) => `${root}.${kind}.${1_000_000 + k}`;
  const out = [];
  for (let i = 0; i < n; i++) {
    const b = Buffer.from(template);
    const st = Math.floor(i / perStudy);
    const m = {study: uid(1, st), series: uid(2, st), sop: uid(3, i)};
    for (const [from, to] of [[t.study, m.study], [t.series, m.series], [t.sop, m.sop]]) {
      const needle = Buffer.from(from);
      for (let pos = b.indexOf(needle); pos >= 0; pos = b.indexOf(needle, pos + needle.length)) b.write(to, pos, 'latin1');
    }
    out.push({bytes: b, ...m});
  }
  return out;
}

async function dcmdump(file) {
  return run('dcmdump', ['-q', file], {timeoutMs: 60_000});
}

module.exports = {
  TS, NATIVE_TS, corpusDir, corpus, corpusEntry, corpusBytes, copyCorpusFiles, sha256,
  parseMediaType, encodeMultipart, decodeMultipart, randomBoundary, http, describe, Store, queryString,
  attr, values, first, str, stowResult, run, py, dcmdump, synthesize, PYTHON,
};
