"""Summary of bench/wado_ab.sh output: per server and client count the median MB/s and
server CPU per MB, and per round the ratios B/A, A/Orthanc and B/Orthanc (paired rounds
see the same machine load)."""
import collections
import json
import statistics
import sys

runs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("cmd") != "wado_study":
        continue
    server, rnd = r["label"].split("-")
    mb = r["mb_per_s"] * r["seconds"]
    runs[(server, rnd, r["concurrency"])] = dict(
        mb_s=r["mb_per_s"], cpu_ms_per_mb=r["server_cpu_s"] * 1000 / mb, bad=r["bad"])

names = {"A": "A", "B": "B", "O": "Orthanc"}
for conc in sorted({k[2] for k in runs}):
    print(f"{conc} client(s)")
    for s in "ABO":
        rs = [v for k, v in runs.items() if k[0] == s and k[2] == conc]
        if rs:
            print(f"  {names[s]:8} {statistics.median(x['mb_s'] for x in rs):7.0f} MB/s"
                  f"  {statistics.median(x['cpu_ms_per_mb'] for x in rs):.3f} ms server CPU/MB"
                  f"  ({len(rs)} rounds, {sum(x['bad'] for x in rs)} bad)")
    rounds = sorted({k[1] for k in runs if k[2] == conc})
    ratios = collections.defaultdict(list)
    for rnd in rounds:
        got = {s: runs.get((s, rnd, conc)) for s in "ABO"}
        for num, den in (("B", "A"), ("A", "O"), ("B", "O")):
            if got[num] and got[den]:
                ratios[f"{names[num]}/{names[den]}"].append(got[num]["mb_s"] / got[den]["mb_s"])
    for name, vs in ratios.items():
        print(f"  {name:12} median {statistics.median(vs):.2f}  rounds "
              + " ".join(f"{v:.2f}" for v in vs))
