#!/usr/bin/python3
"""bench-scale helpers: load N instances made from the small corpus into a server, and
report the scale run against the issue-5 targets.

  scale.py load   --base URL --corpus /tmp/bench-corpus/small --instances N --manifest OUT
                  [--server-pid PID] [--batch 20] [--concurrency 4] [--first-copy 0] [--out F]
      Streams copies 0,1,2,... of the corpus (synth.py: same bytes, new UIDs, patient ids and
      accession numbers) as STOW requests; nothing is written to disk but the manifest of
      what was stored (the input of qido.py). Progress (and ingest rate per 5% of the load,
      to see whether ingest slows down as the store grows) goes to --out as JSON lines.
  scale.py report --res DIR [--json-out F]
      Table of the QIDO p50/p95 per query and the restart times, with the targets
      (p95 <= 20 ms at 1M; restart < 1 s at 1M).
"""
import argparse
import datetime
import http.client
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth  # noqa: E402


def emit(out, rec):
    rec["ts"] = datetime.datetime.now().isoformat(timespec="seconds")
    line = json.dumps(rec)
    print(line, flush=True)
    if out:
        with open(out, "a") as f:
            f.write(line + "\n")


def cpu_s(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def cmd_load(a):
    rw = synth.Rewriter(a.corpus)
    n_rows = len(rw.rows)
    total = a.instances
    nbatches = (total + a.batch - 1) // a.batch
    u = urllib.parse.urlsplit(a.base.rstrip("/"))
    lock = threading.Lock()
    state = dict(next=0, stored=0, failed=0, bytes=0)
    manifest = open(a.manifest, "w")
    blobs = {}  # the corpus bytes, read once (753 MB for the small corpus)
    errors = []

    def batch_rows(i):
        lo, hi = i * a.batch, min(total, (i + 1) * a.batch)
        return [(rw.rows[j % n_rows], a.first_copy + j // n_rows) for j in range(lo, hi)]

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
        while True:
            with lock:
                i = state["next"]
                if i >= nbatches or len(errors) > 10:
                    return
                state["next"] += 1
            items = []
            for r, k in batch_rows(i):
                blob = blobs.get(r["path"])
                if blob is None:
                    blob = blobs.setdefault(r["path"], rw.read(r))
                items.append(rw.instance(r, k, blob))
            boundary = uuid.uuid4().hex
            body = b"".join(synth.multipart_parts([b for b, _ in items], boundary))
            try:
                conn.request("POST", u.path + "/studies", body=body, headers={
                    "Content-Type": 'multipart/related; type="application/dicom"; boundary=%s' % boundary,
                    "Accept": "application/dicom+json"})
                resp = conn.getresponse()
                data = resp.read()
                j = json.loads(data) if resp.status in (200, 202) else {}
                ok = len(j.get("00081199", {}).get("Value", []))
            except Exception as e:  # noqa: count it, reconnect, go on
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
                ok, data = 0, repr(e).encode()
            with lock:
                if ok == len(items):
                    state["stored"] += ok
                    state["bytes"] += sum(len(b) for b, _ in items)
                    for _, row in items:
                        manifest.write(json.dumps(row) + "\n")
                else:
                    state["failed"] += len(items) - ok
                    errors.append(data[:300].decode("utf-8", "replace"))

    threads = [threading.Thread(target=worker) for _ in range(a.concurrency)]
    t0 = time.perf_counter()
    c0 = cpu_s(a.server_pid)
    for t in threads:
        t.start()
    step = max(1, total // 20)
    mark, last_t, last_n, last_c = step, t0, 0, c0
    while any(t.is_alive() for t in threads):
        time.sleep(0.5)
        with lock:
            n = state["stored"]
        if n >= mark or not any(t.is_alive() for t in threads):
            now, c = time.perf_counter(), cpu_s(a.server_pid)
            emit(a.out, dict(cmd="scale_progress", stored=n, elapsed_s=round(now - t0, 1),
                             inst_per_s_segment=round((n - last_n) / max(1e-9, now - last_t), 1),
                             server_cpu_ms_per_instance=round((c - last_c) * 1000 / max(1, n - last_n), 3)))
            mark, last_t, last_n, last_c = (n // step + 1) * step, now, n, c
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    manifest.close()
    emit(a.out, dict(cmd="scale_load", instances=state["stored"], failed=state["failed"],
                     seconds=round(wall, 1), inst_per_s=round(state["stored"] / wall, 1),
                     mb_per_s=round(state["bytes"] / wall / 1e6, 1), errors=errors[:3],
                     copies=(total + n_rows - 1) // n_rows))
    if state["failed"]:
        sys.exit("%d instances failed, e.g. %s" % (state["failed"], errors[:1]))


def cmd_report(a):
    recs = []
    for fn in ("scale.jsonl",):
        with open(os.path.join(a.res, fn)) as f:
            recs += [json.loads(line) for line in f if line.strip()]
    load = [r for r in recs if r["cmd"] == "scale_load"]
    disk = [r for r in recs if r["cmd"] == "disk" and r.get("label") == "scale-stopped"]
    n = load[-1]["instances"] if load else None
    out = ["dicomstore at scale: %s instances (%s)" % (n, a.note or ""), ""]
    if load:
        out.append("load: %.0f inst/s (%.1f MB/s) over %.0f s, 20/req, 4 clients" % (
            load[-1]["inst_per_s"], load[-1]["mb_per_s"], load[-1]["seconds"]))
    seg = [r for r in recs if r["cmd"] == "scale_progress"]
    if seg:
        out.append("ingest rate per 5%% of the load (inst/s): %s" % " ".join(
            "%.0f" % r["inst_per_s_segment"] for r in seg))
    if disk:
        out.append("disk: %.0f allocated bytes per instance after stop" % disk[-1]["allocated_bytes_per_instance"])
    out += ["", "| metric | dicomstore | target (at 1M) | result |", "|---|---:|---|---|"]
    rows = []
    for r in recs:
        if r["cmd"] == "qido":
            for p in ("p50", "p95"):
                v = r["latency"]["%s_ms" % p]
                tgt = "<= 20 ms" if p == "p95" else ""
                ok = None if p == "p50" or r.get("unsupported") else (v is not None and v <= 20)
                if r.get("unsupported"):
                    v, ok = "400", (False if p == "p95" else None)
                rows.append(("QIDO %s %s ms (%s results, %d wrong counts)" % (
                    r["query"], p, r.get("mean_results"), r.get("count_mismatches", 0)), v, tgt, ok))
    for lab, txt in (("scale", "restart-to-ready after clean stop, s"),
                     ("scale-kill", "restart-to-ready after SIGKILL, s")):
        vals = [r["ready_s"] for r in recs if r["cmd"] == "restart" and r["label"] == lab]
        if vals:
            v = statistics.median(vals)
            rows.append(("%s (median of %d)" % (txt, len(vals)), v, "< 1 s", v < 1))
    stops = [r["stop_s"] for r in recs if r["cmd"] == "restart" and r["label"] == "scale"]
    if stops:
        rows.append(("clean stop (SIGTERM to exit), s (median)", statistics.median(stops), "", None))
    for m, v, t, ok in rows:
        vs = v if isinstance(v, str) else ("%.3f" % v if v is not None else "-")
        out.append("| %s | %s | %s | %s |" % (m, vs, t, "" if ok is None else ("PASS" if ok else "FAIL")))
    if n is not None and n < 1000000:
        out.append("")
        out.append("NOTE: %d instances, not 1,000,000: the 1M targets are only indicative here." % n)
    print("\n".join(out))
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(dict(instances=n, note=a.note, load=load[-1] if load else None,
                           progress=[dict(stored=r["stored"], inst_per_s=r["inst_per_s_segment"]) for r in seg],
                           disk_alloc_bytes_per_instance=disk[-1]["allocated_bytes_per_instance"] if disk else None,
                           rows=[dict(metric=m, dicomstore=v, target=t or None,
                                      result=None if ok is None else ("PASS" if ok else "FAIL"))
                                 for m, v, t, ok in rows]), f, indent=1)
            f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    ld = sub.add_parser("load")
    ld.add_argument("--base", required=True)
    ld.add_argument("--corpus", required=True)
    ld.add_argument("--instances", type=int, required=True)
    ld.add_argument("--manifest", required=True)
    ld.add_argument("--server-pid", type=int, default=0)
    ld.add_argument("--batch", type=int, default=20)
    ld.add_argument("--concurrency", type=int, default=4)
    ld.add_argument("--first-copy", type=int, default=0)
    ld.add_argument("--out")
    rp = sub.add_parser("report")
    rp.add_argument("--res", required=True)
    rp.add_argument("--json-out")
    rp.add_argument("--note", default="")
    a = ap.parse_args()
    (cmd_load if a.cmd == "load" else cmd_report)(a)


if __name__ == "__main__":
    main()
