#!/usr/bin/python3
"""Writes N small, valid Part-10 Secondary Capture instances (no pixel data) into OUTDIR, one
study per instance unless --per-study is given. UIDs are deterministic and fixed-width:
ROOT.1.1NNNNNN (study), ROOT.2.1NNNNNN (series), ROOT.3.1NNNNNN (SOP instance), so one file can
serve as a template whose UIDs are rewritten in place (same length, see lib/dicom.js).

usage: make_instances.py N OUTDIR ROOT [--per-study K] [--patient NAME]
stdout: JSON list of {"file", "study", "series", "sop"}.
"""
import argparse
import json
import os
import sys

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

BASE = 1000000  # fixed-width 7-digit UID components without leading zeros
SC = "1.2.840.10008.5.1.4.1.1.7"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("outdir")
    ap.add_argument("root")
    ap.add_argument("--per-study", type=int, default=1)
    ap.add_argument("--patient", default="Bulk^Paging")
    a = ap.parse_args()
    out = []
    for i in range(a.n):
        study_no = i // a.per_study
        study = "%s.1.%d" % (a.root, BASE + study_no)
        series = "%s.2.%d" % (a.root, BASE + study_no)
        sop = "%s.3.%d" % (a.root, BASE + i)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = SC
        meta.MediaStorageSOPInstanceUID = sop
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.SOPClassUID = SC
        ds.SOPInstanceUID = sop
        ds.StudyDate = "20200101"
        ds.StudyTime = "120000"
        ds.AccessionNumber = "B%06d" % study_no
        ds.Modality = "OT"
        ds.ConversionType = "WSD"
        ds.ReferringPhysicianName = ""
        ds.PatientName = a.patient
        ds.PatientID = "BULK"
        ds.PatientBirthDate = ""
        ds.PatientSex = ""
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.StudyID = str(study_no)
        ds.SeriesNumber = 1
        ds.InstanceNumber = i % a.per_study + 1
        ds.is_little_endian = True
        ds.is_implicit_VR = False
        path = os.path.join(a.outdir, "%06d.dcm" % i)
        ds.save_as(path, write_like_original=False)
        out.append({"file": path, "study": study, "series": series, "sop": sop})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
