#!/usr/bin/python3
"""Restart-to-ready time of a server: SIGTERM (or --signal KILL) the pid in --pidfile and wait until it has
exited (stop_s), then exec the server again on the same data (the command after "--") and
poll --probe every 2 ms until it answers 2xx (ready_s = exec to first good answer).
The new pid is written to --pidfile, so the usual stop scripts keep working; the server
runs on in its own session after this script exits.

  restart_time.py --pidfile DIR/x.pid --probe URL --log DIR/x.log [--label L] [--out F] -- CMD...

The probe should touch the index, e.g. {dicomweb}/studies?limit=1 (a QIDO search), so
"ready" means "answers searches", not just "accepts connections".
"""
import argparse
import http.client
import os
import signal
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("SHARED_BENCH", os.path.join(HERE, "..", "..", "shared", "bench")))
import dicomweb_bench as dwb  # noqa: E402


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has exited; its parent just did not reap it yet


def probe_once(u):
    try:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=2)
        c.request("GET", u.path + ("?" + u.query if u.query else ""), headers={"Accept": "application/dicom+json"})
        st = c.getresponse().status
        c.close()
        return 200 <= st < 300
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--label", default="")
    ap.add_argument("--out")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--signal", default="TERM", choices=("TERM", "KILL"),
                    help="KILL: restart after a crash (no clean-shutdown marker)")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    u = urllib.parse.urlsplit(a.probe)

    pid = int(open(a.pidfile).read())
    t0 = time.perf_counter()
    os.kill(pid, signal.SIGKILL if a.signal == "KILL" else signal.SIGTERM)
    while alive(pid):
        if time.perf_counter() - t0 > a.timeout:
            raise SystemExit("server %d did not stop" % pid)
        time.sleep(0.002)
    stop_s = time.perf_counter() - t0
    while probe_once(u):  # port must be free/closed before the new process counts
        time.sleep(0.002)

    log = open(a.log, "ab")
    t1 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    with open(a.pidfile, "w") as f:
        f.write("%d\n" % p.pid)
    polls = 0
    while not probe_once(u):
        polls += 1
        if p.poll() is not None:
            raise SystemExit("server exited with %s during restart; see %s" % (p.returncode, a.log))
        if time.perf_counter() - t1 > a.timeout:
            raise SystemExit("server not ready after %.0f s" % a.timeout)
        time.sleep(0.002)
    ready_s = time.perf_counter() - t1
    rec = dict(cmd="restart", signal=a.signal, stop_s=round(stop_s, 3), ready_s=round(ready_s, 3),
               polls=polls, pid=p.pid)
    dwb.emit(a, rec)  # adds label and ts, prints, appends to --out


if __name__ == "__main__":
    main()
