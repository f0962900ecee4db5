#!/usr/bin/python3
"""Reads Part-10 files with pydicom (Debian python3-pydicom 2.3.1) and prints one JSON object
keyed by path: transfer syntax, identifying UIDs, image pixel description and the byte length
of the pixel data element (PixelData, FloatPixelData or DoubleFloatPixelData).

usage: part10_info.py FILE...
A file that cannot be read gets {"error": "..."} instead of failing the whole run.
"""
import json
import sys

import pydicom

PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def first(ds, keyword):
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    if isinstance(value, pydicom.multival.MultiValue):
        value = value[0]
    return value


def info(path):
    ds = pydicom.dcmread(path)  # strict: no force
    # Walk every element so that a broken value surfaces here.
    for _ in ds.iterall():
        pass
    out = {
        "transferSyntax": str(ds.file_meta.TransferSyntaxUID),
        "sopClass": str(ds.SOPClassUID),
        "sopInstance": str(ds.SOPInstanceUID),
        "study": str(ds.StudyInstanceUID),
        "series": str(ds.SeriesInstanceUID),
        "rows": first(ds, "Rows"),
        "columns": first(ds, "Columns"),
        "bitsAllocated": first(ds, "BitsAllocated"),
        "samplesPerPixel": first(ds, "SamplesPerPixel"),
        "photometric": first(ds, "PhotometricInterpretation"),
        "numberOfFrames": first(ds, "NumberOfFrames"),
        "pixelKeyword": None,
        "pixelLength": None,
    }
    for keyword in PIXEL_KEYWORDS:
        if keyword in ds:
            out["pixelKeyword"] = keyword
            out["pixelLength"] = len(ds[keyword].value)
            break
    for k in ("rows", "columns", "bitsAllocated", "samplesPerPixel", "numberOfFrames"):
        if out[k] is not None:
            out[k] = int(out[k])
    if out["photometric"] is not None:
        out["photometric"] = str(out["photometric"])
    return out


def main(paths):
    result = {}
    for path in paths:
        try:
            result[path] = info(path)
        except Exception as e:  # noqa: BLE001 - reported to the test
            result[path] = {"error": "%s: %s" % (type(e).__name__, e)}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
