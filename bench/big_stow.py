#!/usr/bin/python3
"""One huge STOW-RS request (default 1 GB) of fresh instances, to check that the server
streams it instead of buffering it: reports the server's peak RSS (VmHWM; start the server
fresh so the peak belongs to this request) next to the request size.

The body is generated while it is sent (synth.py copies of the large corpus with new UIDs),
with a Content-Length, so the client does not hold 1 GB either.

  big_stow.py --base URL --corpus /tmp/bench-corpus/large --server-pid PID \
              [--bytes 1e9] [--label L] [--out results.jsonl]
"""
import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.environ.get("SHARED_BENCH", os.path.join(HERE, "..", "..", "shared", "bench")))
import dicomweb_bench as dwb  # noqa: E402
import synth  # noqa: E402


def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0]) / 1024.0  # MiB
    except OSError:
        pass
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--server-pid", type=int, required=True)
    ap.add_argument("--bytes", type=float, default=1e9)
    ap.add_argument("--first-copy", type=int, default=90000, help="synth copy number (fresh UIDs)")
    ap.add_argument("--label", default="big")
    ap.add_argument("--out")
    a = ap.parse_args()

    rw = synth.Rewriter(a.corpus)
    # which (row, copy) pairs: walk the corpus, then again with the next copy number
    picks, total = [], 0
    while total < a.bytes:
        r = rw.rows[len(picks) % len(rw.rows)]
        picks.append((r, a.first_copy + len(picks) // len(rw.rows)))
        total += r["size"]
    boundary = uuid.uuid4().hex
    head = lambda: b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n"  # noqa
    length = sum(len(head()) + r["size"] + 2 for r, _ in picks) + len(boundary) + 6

    def body():
        for r, k in picks:
            blob, _ = rw.instance(r, k)
            yield head() + blob + b"\r\n"
        yield b"--" + boundary.encode() + b"--\r\n"

    u = urllib.parse.urlsplit(a.base.rstrip("/"))
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=3600)
    peak = [0.0]
    done = threading.Event()

    def sample():  # VmRSS every 20 ms, in case VmHWM includes something earlier
        while not done.is_set():
            peak[0] = max(peak[0], proc_status(a.server_pid).get("VmRSS", 0))
            done.wait(0.02)

    before = proc_status(a.server_pid)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    status, ok, bad, err = None, 0, 0, None
    try:
        conn.request("POST", u.path + "/studies", body=body(), headers={
            "Content-Type": 'multipart/related; type="application/dicom"; boundary=%s' % boundary,
            "Content-Length": str(length), "Accept": "application/dicom+json"})
        resp = conn.getresponse()
        status, data = resp.status, resp.read()
        try:
            j = json.loads(data)
            j = j[0] if isinstance(j, list) and j else j
            ok = len(j.get("00081199", {}).get("Value", []))
            bad = len(j.get("00081198", {}).get("Value", []))
        except ValueError:
            err = data[:200].decode("latin-1")
    except Exception as e:  # noqa: a server that gives up on a 1 GB body is a result too
        err = repr(e)
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    after = proc_status(a.server_pid)
    rec = dict(cmd="big_stow", request_bytes=length, instances=len(picks),
               status=status, stored=ok, failed=bad, error=err, seconds=round(wall, 3),
               mb_per_s=round(length / wall / 1e6, 1),
               server_rss_before_mb=round(before.get("VmRSS", 0), 1),
               server_rss_peak_mb=round(max(peak[0], after.get("VmRSS", 0)), 1),
               server_vmhwm_mb=round(after.get("VmHWM", 0), 1))
    dwb.emit(a, rec)  # adds label and ts, prints, appends to --out


if __name__ == "__main__":
    main()
