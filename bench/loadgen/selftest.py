#!/usr/bin/python3
"""Checks loadgen against a toy HTTP/1.1 server on 127.0.0.1 (random free port): response
framing (Content-Length, chunked with extensions, trailers and 1-byte chunks, close-delimited,
Connection: close), part counts across read boundaries, kept bodies, a request body sent
from a file, the retry when the server closed an idle keep-alive connection, 4 connections.

  python3 bench/loadgen/selftest.py build/loadgen/loadgen
"""
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading

BOUNDARY = b"b0und4ry"
CT = b'multipart/related; type="application/dicom"; boundary="' + BOUNDARY + b'"'


def multipart(nparts, seed):
    rnd = random.Random(seed)
    out = []
    for _ in range(nparts):
        out.append(b"--" + BOUNDARY + b"\r\nContent-Type: application/dicom\r\n\r\n")
        out.append(rnd.randbytes(rnd.randint(0, 400000)) + b"\r\n")
    return b"".join(out) + b"--" + BOUNDARY + b"--\r\n"


def handle(conn):
    f = conn.makefile("rb")
    while True:
        line = f.readline()
        if not line:
            break
        _method, path, _ = line.decode().split(" ")
        length = 0
        while True:
            h = f.readline()
            if h in (b"\r\n", b""):
                break
            k, v = h.decode().split(":", 1)
            if k.lower() == "content-length":
                length = int(v)
        data = f.read(length) if length else b""
        mode, n = path.strip("/").split("/")
        body = data if mode == "echo" else multipart(int(n), int(n))
        head = b"HTTP/1.1 200 OK\r\nContent-Type: " + CT + b"\r\n"
        if mode in ("length", "echo", "idle"):
            conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        elif mode == "connclose":
            conn.sendall(head + b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        elif mode == "eof":
            conn.sendall(head + b"\r\n" + body)
        elif mode in ("chunked", "tiny"):
            conn.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
            rnd, i = random.Random(1), 0
            while i < len(body):
                k = 1 if mode == "tiny" else rnd.randint(1, 70000)
                conn.sendall(b"%x;ext=1\r\n" % len(body[i:i + k]) + body[i:i + k] + b"\r\n")
                i += k
            conn.sendall(b"0\r\nX-Trailer: 1\r\n\r\n")
        if mode in ("connclose", "eof", "idle"):  # idle: closes without saying so
            break
    conn.close()


def main():
    loadgen = sys.argv[1]
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    port = srv.getsockname()[1]

    def serve():
        while True:
            c, _ = srv.accept()
            threading.Thread(target=handle, args=(c,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    tmp = tempfile.mkdtemp(prefix="loadgen-selftest-")
    upload = os.path.join(tmp, "upload.bin")
    with open(upload, "wb") as f:
        f.write(random.Random(5).randbytes(1234567))
    # (path, body file, expected body or None for multipart(n, n), expected parts)
    cases = [("/length/5", None), ("/chunked/7", None), ("/eof/3", None), ("/connclose/4", None),
             ("/length/0", None), ("/echo/0", upload), ("/idle/2", None), ("/idle/6", None),
             ("/tiny/2", None), ("/chunked/40", None)]
    with open(os.path.join(tmp, "requests.tsv"), "w") as f:
        for path, body in cases:
            f.write("%s\t%s\t%s\tAccept: */*\n" % ("POST" if body else "GET", path, body or ""))
    keep = os.path.join(tmp, "kept")
    os.mkdir(keep)
    ok = True
    for conns in (1, 4):
        out = subprocess.run([loadgen, "--port", str(port), "--connections", str(conns),
                              "--requests", os.path.join(tmp, "requests.tsv"), "--count-boundary",
                              "--keep-bodies", keep], stdout=subprocess.PIPE, check=True).stdout
        lines = [json.loads(x) for x in out.splitlines()]
        summary = lines.pop()
        for (path, body), r in zip(cases, lines):
            n = int(path.split("/")[2])
            want = open(body, "rb").read() if body else multipart(n, n)
            got = open(os.path.join(keep, str(r["i"])), "rb").read()
            parts = want.count(b"--" + BOUNDARY) - 1
            good = r["status"] == 200 and r["bytes"] == len(want) and got == want and r["parts"] == parts
            ok &= good
            print("%-4s %d conn %-14s status %d bytes %8d parts %3d retried %-5s %s" % (
                "ok" if good else "FAIL", conns, path, r["status"], r["bytes"], r["parts"], r["retried"],
                r["error"]))
        if conns == 1 and summary["reconnects"] != 2:  # /idle/6 and /tiny/2 follow an idle close
            print("FAIL expected 2 reconnects, got", summary["reconnects"])
            ok = False
    subprocess.run(["rm", "-rf", tmp], check=True)
    print("selftest", "passed" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
