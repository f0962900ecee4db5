#!/usr/bin/python3
"""Parses WADO-RS metadata responses with pydicom's Dataset.from_json (Debian python3-pydicom
2.3.1). stdin: a JSON object {"<key>": <metadata response array>, ...}. stdout: JSON object
{"<key>": [{"sopInstance": ..., "study": ..., "series": ..., "bulkDataURIs": [...]}, ...]}
or {"<key>": {"error": "..."}} when an array does not parse.

BulkDataURIs are collected through the bulk data handler (they are not dereferenced here).
"""
import json
import sys
import warnings

from pydicom.dataset import Dataset


def parse(items):
    out = []
    for item in items:
        uris = []

        def handler(tag, vr, uri, uris=uris):
            uris.append(uri)
            return b""

        # Value warnings (old-style dates, UIDs with leading zeros: real-world quirks of the
        # corpus) are not failures here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = Dataset.from_json(item, bulk_data_uri_handler=handler)
        for _ in ds.iterall():
            pass
        out.append({
            "sopInstance": str(ds.get("SOPInstanceUID", "")),
            "study": str(ds.get("StudyInstanceUID", "")),
            "series": str(ds.get("SeriesInstanceUID", "")),
            "sopClass": str(ds.get("SOPClassUID", "")),
            "bulkDataURIs": uris,
        })
    return out


def main():
    data = json.load(sys.stdin)
    result = {}
    for key, items in data.items():
        try:
            result[key] = parse(items)
        except Exception as e:  # noqa: BLE001 - reported to the test
            result[key] = {"error": "%s: %s" % (type(e).__name__, e)}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
