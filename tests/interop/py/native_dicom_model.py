#!/usr/bin/python3
"""Parses a PS3.19 NativeDicomModel XML document (a STOW-RS response) from stdin with the
standard library's XML parser and prints the equivalent DICOM JSON (PS3.18 Annex F) on stdout,
so a test can compare the XML and JSON renderings of the same response. Attribute names the
XML carries besides tag/vr (keyword, privateCreator) are reported under "_xml" per element.

Fails (exit 1) on malformed XML or a structure that is not NativeDicomModel.
"""
import json
import sys
import xml.etree.ElementTree as ET

NUMERIC_VRS = {"US", "SS", "UL", "SL", "FL", "FD", "IS", "DS", "UV", "SV"}


def convert_dataset(node):
    out = {}
    for attr in node:
        if attr.tag != "DicomAttribute":
            raise ValueError("unexpected element <%s>" % attr.tag)
        tag = attr.get("tag")
        vr = attr.get("vr")
        if not tag or len(tag) != 8 or not vr:
            raise ValueError("DicomAttribute without tag/vr: %r" % attr.attrib)
        elem = {"vr": vr}
        extra = {k: v for k, v in attr.attrib.items() if k not in ("tag", "vr")}
        if extra:
            elem["_xml"] = extra
        if vr == "SQ":
            items = sorted(attr.findall("Item"), key=lambda i: int(i.get("number")))
            if items:
                elem["Value"] = [convert_dataset(i) for i in items]
        else:
            vals = sorted(attr.findall("Value"), key=lambda v: int(v.get("number")))
            if vals:
                conv = []
                for v in vals:
                    text = v.text or ""
                    if vr in NUMERIC_VRS:
                        num = float(text)
                        conv.append(int(num) if num.is_integer() and vr not in ("FL", "FD", "DS") else num)
                    else:
                        conv.append(text)
                elem["Value"] = conv
        out[tag.upper()] = elem
    return out


def main():
    root = ET.fromstring(sys.stdin.buffer.read())
    if root.tag != "NativeDicomModel":
        raise ValueError("root element is <%s>, not <NativeDicomModel>" % root.tag)
    json.dump(convert_dataset(root), sys.stdout)


if __name__ == "__main__":
    main()
