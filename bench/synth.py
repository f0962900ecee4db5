#!/usr/bin/python3
"""Make "new" instances out of a gen_corpus.py corpus without writing files: copy k of an
instance is its exact bytes with the identifying values replaced by values of the SAME
length, so no DICOM element length changes and the file stays valid.

Used by big_stow.py (a 1 GB STOW request of fresh instances) and scale.py (a million
instances from the 20,000 of the small corpus, streamed to the server; a million real files
would not fit next to the store on this machine's disk).

Rewritten per copy k (k < 100000):
  StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID (also in the file meta): the last 5
      digits become k (the UIDs are 2.25.<~39 digits>, so uniqueness is kept);
  PatientID  MRN########  -> MRN<k%1000:03><patient#:05>   (a copy has its own patients)
  AccessionNumber A######### -> A<k%10000:04><study#:05>   (stays unique per study)
Patient names, dates, modalities and pixel data stay as they are.
"""
import json
import os


def _suffix_uid(u, k):
    return u[:-5] + "%05d" % k


class Rewriter:
    def __init__(self, corpus, rows=None):
        self.corpus = corpus
        self.rows = rows if rows is not None else load_manifest(corpus)
        # stable small numbers for patients and studies, in manifest order
        self.pidx, self.sidx = {}, {}
        for r in self.rows:
            self.pidx.setdefault(r["patient_id"], len(self.pidx))
            self.sidx.setdefault(r["study"], len(self.sidx))
        if len(self.pidx) > 99999 or len(self.sidx) > 99999:
            raise ValueError("corpus too big for the 5-digit patient/study numbers")

    def new_values(self, r, k):
        """The manifest row of copy k (same keys as gen_corpus.py writes)."""
        n = dict(r)
        n["study"] = _suffix_uid(r["study"], k)
        n["series"] = _suffix_uid(r["series"], k)
        n["sop"] = _suffix_uid(r["sop"], k)
        n["patient_id"] = "MRN%03d%05d" % (k % 1000, self.pidx[r["patient_id"]])
        n["accession"] = "A%04d%05d" % (k % 10000, self.sidx[r["study"]])
        n["copy"] = k
        return n

    def read(self, r):
        with open(os.path.join(self.corpus, r["path"]), "rb") as f:
            return f.read()

    def instance(self, r, k, blob=None):
        """(bytes of copy k of manifest row r, its manifest row)."""
        if blob is None:
            blob = self.read(r)
        n = self.new_values(r, k)
        # only the header before PixelData (7FE0,0010) holds these values: replace there
        px = blob.find(b"\xe0\x7f\x10\x00")
        head, tail = (blob, b"") if px < 0 else (blob[:px], blob[px:])
        for key in ("study", "series", "sop", "patient_id", "accession"):
            old, new = r[key].encode(), n[key].encode()
            assert len(old) == len(new), (key, old, new)
            if old not in head:
                raise ValueError("%s %s not found in %s" % (key, r[key], r["path"]))
            head = head.replace(old, new)
        return head + tail, n


def load_manifest(corpus):
    with open(os.path.join(corpus, "manifest.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def multipart_parts(blobs, boundary):
    """multipart/related framing exactly as dicomweb_bench.py builds it (list of bytes)."""
    b = boundary.encode()
    parts = []
    for blob in blobs:
        parts += [b"--" + b + b"\r\nContent-Type: application/dicom\r\n\r\n", blob, b"\r\n"]
    parts.append(b"--" + b + b"--\r\n")
    return parts
