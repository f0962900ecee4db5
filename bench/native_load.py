#!/usr/bin/python3
"""The throughput rows of bench/run.sh (STOW, whole-study WADO) driven by the native load
generator bench/loadgen instead of dicomweb_bench.py's Python threads: on two cores the
Python client costs more CPU per MB than the server it measures, so it, not the server,
set those figures. Everything else comes from ../shared/bench/dicomweb_bench.py (imported):
the manifest, the multipart bodies, the STOW response check, the server monitor
(ProcMonitor), the records (emit, lat_summary). The records have the same cmd and fields as
dicomweb_bench's, plus client="loadgen" and loadgen_cpu_s; client_cpu_s is this process
and loadgen together (os.times of self and children), as dicomweb_bench's own.

  native_load.py --loadgen build/loadgen/loadgen --tmp DIR --base URL --corpus DIR \\
      [--server-pid PID] [--out F.jsonl] [--label L] [--header 'Name: value']...
      stow --offset O --count C --batch B --concurrency T
      wado --studies N --concurrency 1 4 --n N --warmup W

stow: the request bodies are built before the clock starts, one file per request in a temp
dir under --tmp (tmpfs if possible: hundreds of MB written to the servers' disk just before
the timed part would be flushed to it during that part); loadgen sends them with sendfile
and keeps the responses, which are checked after the timed part (dicomweb_bench's
stow_result_counts: a request counts only if every instance was stored).
wado: the same studies as dicomweb_bench's wado (same seed, same draws), status and part
count checked per study; then dicomweb_bench's own study/series/instance metadata and
single-instance retrieves, from the same random stream it would have used.
"""
import argparse
import collections
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import types
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("SHARED_BENCH", os.path.join(HERE, "..", "..", "shared", "bench")))
import dicomweb_bench as dwb  # noqa: E402

r3 = dwb.r3


def run_loadgen(args, reqs, conc, tmp, count_boundary=False, keep_bodies=False):
    """reqs: [(method, path below --base, body file or None, [header lines])]. Returns
    (per-request results, loadgen summary, client CPU seconds, server monitor result,
    saved-bodies dir or None)."""
    u = urllib.parse.urlsplit(args.base.rstrip("/"))
    extra = ["%s: %s" % kv for kv in args.headers.items()]
    listing = os.path.join(tmp, "requests.tsv")
    with open(listing, "w") as f:
        for method, path, body, headers in reqs:
            f.write("\t".join([method, u.path + "/" + path.lstrip("/"), body or ""] + headers + extra) + "\n")
    cmd = [args.loadgen, "--host", u.hostname, "--port", str(u.port or 80),
           "--connections", str(conc), "--requests", listing]
    if count_boundary:
        cmd.append("--count-boundary")
    keep = None
    if keep_bodies:
        keep = os.path.join(tmp, "responses")
        os.makedirs(keep)
        cmd += ["--keep-bodies", keep]
    c0 = os.times()
    with dwb.ProcMonitor(args.server_pid) as mon:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, check=False)
    c1 = os.times()
    if p.returncode != 0:
        sys.exit("loadgen failed (exit %d)" % p.returncode)
    lines = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    summary = lines.pop()
    assert summary.get("summary") and len(lines) == len(reqs), "loadgen output incomplete"
    cpu = (c1.user - c0.user) + (c1.system - c0.system) + \
          (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
    return lines, summary, cpu, mon.result(), keep


def cmd_stow(args):
    rows = dwb.load_manifest(args.corpus)
    sel = rows[args.offset: args.offset + args.count if args.count else None]
    if not sel:
        sys.exit("empty selection")
    tmp = tempfile.mkdtemp(prefix="stow-", dir=args.tmp)
    try:
        reqs, meta = [], []
        for k in range(0, len(sel), args.batch):
            bt = sel[k:k + args.batch]
            blobs = []
            for r in bt:
                with open(os.path.join(args.corpus, r["path"]), "rb") as f:
                    blobs.append(f.read())
            boundary = uuid.uuid4().hex
            path = os.path.join(tmp, "%06d.body" % len(reqs))
            with open(path, "wb") as f:
                f.write(dwb.multipart_body(blobs, boundary))
            ct = 'multipart/related; type="application/dicom"; boundary=%s' % boundary
            reqs.append(("POST", "studies", path, ["Content-Type: " + ct, "Accept: " + dwb.DICOM_JSON]))
            meta.append((len(bt), sum(len(x) for x in blobs)))
        res, summary, cpu, mon, keep = run_loadgen(args, reqs, args.concurrency, tmp, keep_bodies=True)
        stats, statuses, errs, lat = collections.Counter(), collections.Counter(), [], []
        for i, (x, (n, nbytes)) in enumerate(zip(res, meta)):
            lat.append(x["seconds"])
            if x["error"]:
                errs.append(x["error"])
                stats["failed_instances"] += n
                continue
            st = x["status"]
            statuses[st] += 1
            with open(os.path.join(keep, str(i)), "rb") as f:
                data = f.read()
            ok, bad = dwb.stow_result_counts(data)
            if st in (200, 202) and ok == n and not bad:
                stats["stored"] += n
                stats["bytes"] += nbytes
            else:
                stats["failed_instances"] += n - (ok or 0)
                if stats["err_samples"] < 3:
                    stats["err_samples"] += 1
                    sys.stderr.write(f"STOW status {st} ok={ok} bad={bad}: {data[:300]!r}\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    wall = summary["wall_s"]
    out = dict(cmd="stow", client="loadgen", batch=args.batch, concurrency=args.concurrency,
               offset=args.offset, instances=stats["stored"], requests=len(reqs), seconds=r3(wall),
               inst_per_s=r3(stats["stored"] / wall), mb_per_s=r3(stats["bytes"] / wall / 1e6),
               mean_instance_kb=r3(stats["bytes"] / max(1, stats["stored"]) / 1000),
               failed_instances=stats["failed_instances"], statuses=dict(statuses),
               exceptions=errs[:3], reconnects=summary["reconnects"],
               client_cpu_s=r3(cpu), loadgen_cpu_s=r3(summary["cpu_s"]),
               request_latency=dwb.lat_summary(lat))
    out.update(mon)
    if mon and stats["stored"]:
        out["server_cpu_ms_per_instance"] = r3(out["server_cpu_s"] * 1000 / stats["stored"])
    dwb.emit(args, out)


def cmd_wado(args):
    studies = list(dwb.corpus_index(dwb.load_manifest(args.corpus)).values())
    rng = random.Random(args.seed)
    for conc in args.concurrency:
        pick = [rng.choice(studies) for _ in range(args.studies)]  # as dicomweb_bench's wado
        reqs = [("GET", "studies/%s" % s["uid"], None, ["Accept: " + dwb.ACCEPT_MULTIPART]) for s in pick]
        tmp = tempfile.mkdtemp(prefix="wado-", dir=args.tmp)
        try:
            res, summary, cpu, mon, _ = run_loadgen(args, reqs, conc, tmp, count_boundary=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        tot, lat, errs = collections.Counter(), [], []
        for s, x in zip(pick, res):
            if x["error"]:  # dicomweb_bench: an exception ends that client thread, study not counted
                errs.append(x["error"])
                continue
            st = x["status"]
            nparts = x["parts"] if st == 200 else 0
            expected = sum(len(v) for v in s["series"].values())
            lat.append(x["seconds"])
            tot["bytes"] += x["bytes"]
            tot["instances"] += max(0, nparts)
            tot["studies"] += 1
            if st != 200 or nparts != expected:
                tot["bad"] += 1
                if tot["bad"] <= 2:
                    sys.stderr.write(f"WADO study status {st} parts {nparts} expected {expected}\n")
        wall = summary["wall_s"]
        out = dict(cmd="wado_study", client="loadgen", concurrency=conc, studies=tot["studies"],
                   instances=tot["instances"], seconds=r3(wall), studies_per_s=r3(tot["studies"] / wall),
                   inst_per_s=r3(tot["instances"] / wall), mb_per_s=r3(tot["bytes"] / wall / 1e6),
                   mean_study_mb=r3(tot["bytes"] / max(1, tot["studies"]) / 1e6),
                   bad=tot["bad"], exceptions=errs[:3], reconnects=summary["reconnects"],
                   client_cpu_s=r3(cpu), loadgen_cpu_s=r3(summary["cpu_s"]),
                   latency=dwb.lat_summary(lat))
        out.update(mon)
        dwb.emit(args, out)
    # Metadata and single-instance retrieves: dicomweb_bench's own code, without its study
    # retrieves (concurrency []), drawing from this random stream as it would have.
    dwb.random = types.SimpleNamespace(Random=lambda _seed: rng)
    rest = argparse.Namespace(**vars(args))
    rest.concurrency = []
    dwb.cmd_wado(rest)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loadgen", default=os.path.join(HERE, "..", "build", "loadgen", "loadgen"))
    ap.add_argument("--tmp", default="/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir(),
                    help="request bodies and responses go to a temp dir below this")
    ap.add_argument("--base", required=True, help="DICOMweb root URL")
    ap.add_argument("--corpus", required=True, help="corpus dir written by gen_corpus.py")
    ap.add_argument("--server-pid", type=int, default=0)
    ap.add_argument("--out", help="append JSON results here")
    ap.add_argument("--label", default="")
    ap.add_argument("--header", action="append", default=[], help="extra request header 'Name: value'")
    ap.add_argument("--seed", type=int, default=7)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("stow")
    s.add_argument("--offset", type=int, default=0)
    s.add_argument("--count", type=int, default=0, help="0 = all from offset")
    s.add_argument("--batch", type=int, default=1)
    s.add_argument("--concurrency", type=int, default=1)
    w = sub.add_parser("wado")
    w.add_argument("--studies", type=int, default=100)
    w.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    w.add_argument("--n", type=int, default=200)
    w.add_argument("--warmup", type=int, default=10)
    args = ap.parse_args()
    args.headers = {k.strip(): v.strip() for k, v in (h.split(":", 1) for h in args.header)}
    if not os.access(args.loadgen, os.X_OK):
        sys.exit("no loadgen binary at %s (cmake -S bench/loadgen -B build/loadgen)" % args.loadgen)
    dict(stow=cmd_stow, wado=cmd_wado)[args.cmd](args)


if __name__ == "__main__":
    main()
