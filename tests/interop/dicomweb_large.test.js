'use strict';
// A large instance streams through STOW and WADO without the server holding it in memory:
// a ~320 MB Part 10 file is uploaded with chunked encoding, retrieved byte-identical, and the
// server's peak resident memory (VmHWM) stays far below the instance size.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const {test} = require('node:test');
const {useServer} = require('./lib/server');
const {Store} = require('./lib/dicom');

const T = {timeout: 240_000};
const ROWS = 4096;
const COLS = 4096;
const FRAMES = 10;                            // 10 x 32 MiB of 16-bit pixels
const PIXEL_BYTES = ROWS * COLS * 2 * FRAMES;
const PEAK_RSS_LIMIT = 150 * 1024 * 1024;    // the bound for a 1 GB STOW
const UIDS = {
  sopClass: '1.2.840.10008.5.1.4.1.1.7',
  study: '1.2.826.0.1.3680043.9.7433.9.1',
  series: '1.2.826.0.1.3680043.9.7433.9.1.1',
  sop: '1.2.826.0.1.3680043.9.7433.9.1.1.1',
};
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

let store;
const fx = useServer({setup: async () => { store = await Store.create(fx, 'large', 'store'); }});

// Explicit VR little-endian element with a short (2-byte) length.
function element(group, elem, vr, value) {
  let v = Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1');
  if (v.length % 2) v = Buffer.concat([v, Buffer.from(vr === 'UI' ? '\0' : ' ')]);
  const h = Buffer.alloc(8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(elem, 2);
  h.write(vr, 4, 'latin1');
  h.writeUInt16LE(v.length, 6);
  return Buffer.concat([h, v]);
}
function us(n) { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; }

// Everything before the pixel values: preamble, File Meta, dataset, PixelData header.
function header() {
  const meta = Buffer.concat([
    Buffer.concat([Buffer.from([0x02, 0x00, 0x01, 0x00]), Buffer.from('OB'), Buffer.from([0, 0]),
      Buffer.from([2, 0, 0, 0]), Buffer.from([0, 1])]),
    element(0x0002, 0x0002, 'UI', UIDS.sopClass),
    element(0x0002, 0x0003, 'UI', UIDS.sop),
    element(0x0002, 0x0010, 'UI', EXPLICIT_LE),
  ]);
  const groupLength = Buffer.concat([element(0x0002, 0x0000, 'UL', Buffer.alloc(4))]);
  groupLength.writeUInt32LE(meta.length, 8);
  const dataset = Buffer.concat([
    element(0x0008, 0x0016, 'UI', UIDS.sopClass),
    element(0x0008, 0x0018, 'UI', UIDS.sop),
    element(0x0008, 0x0060, 'CS', 'OT'),
    element(0x0010, 0x0010, 'PN', 'Large^Instance'),
    element(0x0010, 0x0020, 'LO', 'LARGE1'),
    element(0x0020, 0x000d, 'UI', UIDS.study),
    element(0x0020, 0x000e, 'UI', UIDS.series),
    element(0x0028, 0x0002, 'US', us(1)),
    element(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    element(0x0028, 0x0008, 'IS', String(FRAMES)),
    element(0x0028, 0x0010, 'US', us(ROWS)),
    element(0x0028, 0x0011, 'US', us(COLS)),
    element(0x0028, 0x0100, 'US', us(16)),
    element(0x0028, 0x0101, 'US', us(16)),
    element(0x0028, 0x0102, 'US', us(15)),
    element(0x0028, 0x0103, 'US', us(0)),
  ]);
  const pixelHeader = Buffer.alloc(12);
  pixelHeader.writeUInt16LE(0x7fe0, 0);
  pixelHeader.writeUInt16LE(0x0010, 2);
  pixelHeader.write('OW', 4, 'latin1');
  pixelHeader.writeUInt32LE(PIXEL_BYTES, 8);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), groupLength, meta, dataset, pixelHeader]);
}

// Deterministic pixel chunks (not all zeros, so nothing can cheat with sparse data).
function* pixelChunks() {
  const chunk = Buffer.alloc(4 * 1024 * 1024);
  for (let off = 0; off < PIXEL_BYTES; off += chunk.length) {
    for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((off + i) >>> 2, i);
    yield chunk.subarray(0, Math.min(chunk.length, PIXEL_BYTES - off));
  }
}

function peakRss(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

function request(method, path, headers, writeBody) {
  return new Promise((resolve, reject) => {
    const url = new URL(fx.base + path);
    const req = http.request({method, host: url.hostname, port: url.port, path: url.pathname + url.search, headers}, (res) => {
      const hash = crypto.createHash('sha256');
      let size = 0;
      const small = [];
      res.on('data', (d) => { hash.update(d); size += d.length; if (size < 65536) small.push(d); });
      res.on('end', () => resolve({status: res.statusCode, headers: res.headers, size, sha: hash.digest('hex'), text: Buffer.concat(small).toString('latin1')}));
      res.on('error', reject);
    });
    req.setTimeout(180_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    writeBody(req).then(() => req.end(), reject);
  });
}

test('a ~320 MB instance is stored and retrieved as a stream with bounded server memory', T, async () => {
  const pid = fx.handle.child.pid;
  const head = header();
  const sent = crypto.createHash('sha256');
  const stow = await request('POST', `${store.web}/studies`,
      {'content-type': 'application/dicom', 'accept': 'application/dicom+json', 'transfer-encoding': 'chunked'},
      async (req) => {
        sent.update(head);
        req.write(head);
        for (const c of pixelChunks()) {
          sent.update(c);
          if (!req.write(c)) await new Promise((r) => req.once('drain', r));
        }
      });
  assert.equal(stow.status, 200, stow.text);
  const expected = sent.digest('hex');
  const afterStow = peakRss(pid);
  assert.ok(afterStow < PEAK_RSS_LIMIT, `peak RSS after STOW ${afterStow} bytes`);

  // As stored, via the multipart retrieve: one part whose bytes hash like the upload.
  const single = await request('GET', `${store.web}/studies/${UIDS.study}/series/${UIDS.series}/instances/${UIDS.sop}`,
      {accept: 'application/dicom; transfer-syntax=*'}, async () => {});
  assert.equal(single.status, 200);
  assert.equal(single.size, head.length + PIXEL_BYTES);
  assert.equal(single.sha, expected);
  const multi = await request('GET', `${store.web}/studies/${UIDS.study}`,
      {accept: 'multipart/related; type="application/dicom"; transfer-syntax=*'}, async () => {});
  assert.equal(multi.status, 200);
  assert.ok(multi.size > PIXEL_BYTES, `multipart size ${multi.size}`);
  const afterRetrieve = peakRss(pid);
  assert.ok(afterRetrieve < PEAK_RSS_LIMIT, `peak RSS after retrieve ${afterRetrieve} bytes`);

  // The metadata points at the pixel data instead of inlining it.
  const meta = await request('GET', `${store.web}/studies/${UIDS.study}/metadata`, {}, async () => {});
  assert.equal(meta.status, 200);
  assert.match(meta.text, /"7FE00010":\{"vr":"OW","BulkDataURI":"http/);
});
