#!/usr/bin/python3
"""Shortens a `perf report --children --stdio -g none` listing for reading: C++ template
arguments and parameter lists are dropped, and only frames that say where time goes are kept
(our code, DCMTK, SQLite, OpenSSL, the allocator, system calls, ext4, TCP), first occurrence
of each shortened name only.   perf_short.py < X.children.txt > X.hot.txt"""
import re
import sys

KEEP = re.compile(r"dicomstore::|Dcm|sqlite3|SHA|sha256|EVP_|__x64_sys_|ext4_|do_fsync|vfs_|tcp_|"
                  r"copy_|malloc|free\b|cfree|_int_|memcpy|memmove|memcmp|json|Json|absl::")


def strip_templates(s):
    out, depth = [], 0
    for ch in s:
        if ch == "<":
            depth += 1
        if depth == 0:
            out.append(ch)
        if ch == ">" and depth > 0:
            depth -= 1
    s = "".join(out)
    prev = None
    while prev != s:  # parameter lists, innermost first
        prev, s = s, re.sub(r"\([^()]*\)", "()", s)
    return s


seen = set()
for line in sys.stdin:
    if line.startswith("#") or not line.strip():
        continue
    short = strip_templates(line.rstrip())
    parts = short.split(None, 3)
    if len(parts) < 4 or not KEEP.search(parts[3]) or parts[3] in seen:
        continue
    seen.add(parts[3])
    print("%8s %8s  %s" % (parts[0], parts[1], parts[3][:140]))
