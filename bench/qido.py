#!/usr/bin/python3
"""QIDO-RS latency, the same searches on both servers, each in the dialect it speaks.

Why not `dicomweb_bench.py qido` as is: two of its searches are not in the Cloud Healthcare
API that dicomstore implements (spec §10.3): wildcards (`PatientName=SAN*`; Google has
`PatientName=SAN&fuzzymatching=true`, a prefix match on every name word instead) and
`ModalitiesInStudy` as a study match key. So:
  studies_by_patient_name_prefix  orthanc: PatientName=SAN*        (family-name prefix)
                                  google : PatientName=SAN&fuzzymatching=true (any-word prefix)
                                  each checked against its own expected count
  studies_by_modalities_in_study  the same URL on both; a 400 is recorded as "unsupported"
  series_by_modality              extra, the same URL on both (Modality is a series key in
                                  both), so modality search is still compared
Everything else (parameters drawn with a fixed seed from the manifest, 10 warm-up + N
measured sequential queries, result counts checked, server RSS/CPU sampled, limit=100) is
dicomweb_bench.py's, imported from ../shared/bench, and the records it appends to --out
have the same shape as its `qido` records (plus "dialect", "unsupported").

  qido.py --base URL --corpus DIR --dialect orthanc|google [--server-pid PID] [--n 200]
          [--warmup 10] [--label L] [--out F] [--only TYPE...]
"""
import argparse
import collections
import json
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("SHARED_BENCH", os.path.join(HERE, "..", "..", "shared", "bench")))
import dicomweb_bench as dwb  # noqa: E402


def name_words(name):
    return [w for w in re.split(r"[\^ =]+", name.upper()) if w]


def build(rows, n, seed, limit, dialect):
    studies = dwb.corpus_index(rows)
    sl = list(studies.values())
    q = dwb.build_queries(studies, n, seed, limit)
    cap = lambda x: min(x, limit)  # noqa: E731
    out = collections.OrderedDict()
    out["studies_by_patient_id"] = q["studies_by_patient_id"]
    out["studies_by_patient_name_prefix"] = []
    words = [name_words(s["patient_name"]) for s in sl] if dialect == "google" else []
    for path, exp in q["studies_by_patient_name_wildcard"]:
        prefix = re.search(r"PatientName=([^*&]+)\*", path).group(1)
        if dialect == "google":
            cnt = sum(1 for ws in words if any(w.startswith(prefix) for w in ws))
            path, exp = "studies?PatientName=%s&fuzzymatching=true&limit=%d" % (prefix, limit), cap(cnt)
        out["studies_by_patient_name_prefix"].append((path, exp))
    out["studies_by_date_range"] = q["studies_by_date_range"]
    out["studies_by_modalities_in_study"] = q["studies_by_modality"]
    series_mod = {}
    for r in rows:
        series_mod.setdefault(r["series"], r["modality"])
    per_mod = collections.Counter(series_mod.values())
    out["series_by_modality"] = []
    for path, _exp in q["studies_by_modality"]:
        m = re.search(r"ModalitiesInStudy=([A-Z]+)", path).group(1)
        out["series_by_modality"].append(("series?Modality=%s&limit=%d" % (m, limit), cap(per_mod[m])))
    out["studies_by_accession"] = q["studies_by_accession"]
    out["series_in_study"] = q["series_in_study"]
    out["instances_in_series"] = q["instances_in_series"]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True)
    ap.add_argument("--corpus", required=True, help="dir with manifest.jsonl (files not needed)")
    ap.add_argument("--dialect", choices=("orthanc", "google"), required=True)
    ap.add_argument("--server-pid", type=int, default=0)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--label", default="")
    ap.add_argument("--out")
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    a.headers = {}

    rows = dwb.load_manifest(a.corpus)
    queries = build(rows, a.n + a.warmup, a.seed, a.limit, a.dialect)
    del rows
    cl = dwb.Client(a.base)
    for qtype, lst in queries.items():
        if a.only and qtype not in a.only:
            continue
        lat, nres, mism, samples = [], [], 0, []
        bad_status = collections.Counter()
        unsupported = False
        c0 = os.times()
        with dwb.ProcMonitor(a.server_pid) as mon:
            t0 = time.perf_counter()
            for i, (path, expected) in enumerate(lst):
                st, _h, data, dt = cl.request("GET", path, None, {"Accept": dwb.DICOM_JSON})
                if st == 400 and i == 0:
                    unsupported = True  # the server rejects this search: record it, don't time it
                    bad_status[st] += 1
                    samples.append(dict(path=path, status=st, body=data[:200].decode("utf-8", "replace")))
                    break
                cnt = 0 if st == 204 else (len(json.loads(data)) if st == 200 and data.strip() else -1)
                if cnt < 0:
                    bad_status[st] += 1
                if i < a.warmup:
                    continue
                lat.append(dt)
                nres.append(cnt)
                if expected is not None and cnt != expected:
                    mism += 1
                    if len(samples) < 2:
                        samples.append(dict(path=path, got=cnt, expected=expected))
            wall = time.perf_counter() - t0
        c1 = os.times()
        res = dict(cmd="qido", query=qtype, dialect=a.dialect, example=lst[-1][0][:160], limit=a.limit,
                   unsupported=unsupported, latency=dwb.lat_summary(lat),
                   qps_sequential=dwb.r3(len(lat) / sum(lat)) if lat else None,
                   mean_results=dwb.r3(statistics.fmean(nres)) if nres else None,
                   count_mismatches=mism, mismatch_samples=samples, bad_status=dict(bad_status),
                   client_cpu_s=dwb.r3((c1.user - c0.user) + (c1.system - c0.system)), wall_s=dwb.r3(wall))
        res.update(mon.result())
        if mon.pid and lat:
            res["server_cpu_ms_per_query"] = dwb.r3(res["server_cpu_s"] * 1000 / (len(lat) + a.warmup))
        dwb.emit(a, res)


if __name__ == "__main__":
    main()
