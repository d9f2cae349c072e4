#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Peer test: PyMca 5.8 reads the .mca and .msa files magassay writes.

usage: peer_pymca.py TEST_MCA [SHARED_DATA_DIR]

This script writes no spectrum itself: `TEST_MCA --peer-write DIR [DATA]`
(tests/formats/test_mca.c) writes NAME.mca, NAME.msa, NAME.ems (the same
EMSA text under the name PyMca's EMSA parser wants) and NAME.{mca,msa}.expect
(what magassay reads back from its own files). PyMca then reads them with
its own readers and must find the same counts and calibration:

  .mca  PyMca5.PyMcaIO.specfilewrapper.Specfile (its Amptek branch): counts
        exactly; the calibration from the <<CALIBRATION>> pairs (PyMca fits a
        line and prints it with 6 significant digits, so energies are compared
        to 1e-4 keV over the channel range).
  .msa  specfilewrapper.Specfile: PyMca 5.8 has no EMSA keyword reader for
        .msa, it reads the values as a column of numbers: counts exactly.
  .ems  PyMca5.PyMcaIO.ThermoEMSFileParser, PyMca's only EMSA keyword parser
        (used for the .ems name): the calibration from OFFSET/XPERCHAN
        exactly, live and real time from #LIVETIME/#REALTIME exactly. It takes
        counts from the second column, i.e. XY files only; for magassay's
        DATATYPE Y files it cannot give counts (reported, not a failure).

Exit 0 pass, 1 fail, 77 skip (PyMca5 not importable by this interpreter).
"""
import glob
import os
import subprocess
import sys
import tempfile

try:
    import PyMca5
    from PyMca5.PyMcaIO import specfilewrapper, ThermoEMSFileParser
except Exception as exc:  # ImportError, or a broken install
    print("SKIP: PyMca5 cannot be imported by %s (%s); install python3-pymca5 (Debian) "
          "or configure with -DMAGASSAY_PEER_PYTHON=/path/to/python3 to run the PyMca peer test"
          % (sys.executable, exc))
    sys.exit(77)

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def read_expect(path):
    want = {}
    counts = []
    with open(path) as f:
        in_counts = False
        for line in f:
            line = line.strip()
            if in_counts:
                counts.append(float(line))
            elif line == "counts":
                in_counts = True
            else:
                key, value = line.split(None, 1)
                want[key] = float(value)
    want["counts"] = counts
    return want


def same_counts(name, got, want):
    got = [float(x) for x in got]
    if len(got) != len(want):
        fail("%s: PyMca reads %d channels, magassay %d" % (name, len(got), len(want)))
        return False
    bad = [i for i in range(len(want)) if got[i] != want[i]]
    if bad:
        i = bad[0]
        fail("%s: %d channels differ, first %d: PyMca %r, magassay %r" % (name, len(bad), i, got[i], want[i]))
        return False
    return True


def energy(cal, ch):
    return cal[0] + cal[1] * ch + cal[2] * ch * ch


def check_mca(path, want):
    name = os.path.basename(path)
    sf = specfilewrapper.Specfile(path)
    if sf.scanno() != 1:
        fail("%s: PyMca sees %d scans, expected one Amptek spectrum" % (name, sf.scanno()))
        return
    scan = sf[0]
    if scan.nbmca() != 1:
        fail("%s: PyMca sees %d MCA spectra" % (name, scan.nbmca()))
        return
    ok = same_counts(name, scan.mca(1), want["counts"])
    calib = scan.header("@CALIB")
    if want["calibrated"]:
        if not calib:
            fail("%s: PyMca finds no calibration" % name)
            return
        zero, gain, quad = (float(x) for x in calib[0].split()[1:4])
        ours = (want["offset"], want["gain"], want["quad"])
        n = len(want["counts"])
        worst = max(abs(energy((zero, gain, quad), ch) - energy(ours, ch)) for ch in (0, n // 2, n - 1))
        if worst > 1e-4:
            fail("%s: PyMca's calibration %s is %g keV from magassay's %r" % (name, calib[0], worst, ours))
            ok = False
    elif calib:
        fail("%s: PyMca finds a calibration %s where magassay has none" % (name, calib))
        ok = False
    if ok:
        print("ok: %s: PyMca (Amptek reader) reads %d channels and %s identical to magassay's"
              % (name, len(want["counts"]), calib[0].strip() if calib else "no calibration"))


def check_msa(path, want):
    name = os.path.basename(path)
    sf = specfilewrapper.Specfile(path)
    spectra = []
    for i in range(sf.scanno()):
        scan = sf[i]
        for k in range(1, scan.nbmca() + 1):
            spectra.append(scan.mca(k))
    if len(spectra) != 1:
        fail("%s: PyMca reads %d spectra from it, expected one column" % (name, len(spectra)))
        return
    if same_counts(name, spectra[0], want["counts"]):
        print("ok: %s: PyMca (column reader) reads %d identical counts; it reads no EMSA keywords from .msa"
              % (name, len(want["counts"])))

    ems = path[:-4] + ".ems"
    ename = os.path.basename(ems)
    parser = ThermoEMSFileParser.ThermoEMSFileParser(ems)
    scan = parser[0]
    ok = True
    calib = scan.header("@CALIB")
    if want["calibrated"]:
        if not calib:
            fail("%s: PyMca's EMSA parser finds no calibration" % ename)
            return
        zero, gain = (float(x) for x in calib[0].split()[1:3])
        if want["quad"] == 0 and (zero != want["offset"] or gain != want["gain"]):
            fail("%s: PyMca's EMSA parser reads %s, magassay %r + %r ch" % (ename, calib[0], want["offset"],
                                                                           want["gain"]))
            ok = False
    ctime = scan.header("@CTIME")
    if want["live"] == want["live"]:  # not NaN
        if not ctime:
            fail("%s: PyMca's EMSA parser finds no live time" % ename)
            ok = False
        else:
            real, live = (float(x) for x in ctime[0].split()[1:3])
            want_real = want["real"] if want["real"] == want["real"] else want["live"]
            if live != want["live"] or real != want_real:
                fail("%s: PyMca's EMSA parser reads times %s, magassay live %r real %r"
                     % (ename, ctime[0], want["live"], want["real"]))
                ok = False
    try:
        counts = scan.mca(1)
    except IndexError:
        print("note: %s: PyMca's EMSA parser takes counts from the second column (XY data only); "
              "it cannot give the counts of a DATATYPE Y file" % ename)
    else:
        ok = same_counts(ename + " (EMSA parser)", counts, want["counts"]) and ok
    if ok:
        print("ok: %s: PyMca's EMSA parser reads %s and %s identical to magassay's"
              % (ename, calib[0].strip() if calib else "no calibration", ctime[0].strip() if ctime else "no times"))


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    writer = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 and os.path.isdir(sys.argv[2]) else ""
    print("PyMca %s from %s" % (PyMca5.version(), os.path.dirname(PyMca5.__file__)))
    if not data:
        print("note: ../shared/data absent: only the spectrum built by the test is checked")
    with tempfile.TemporaryDirectory(prefix="magassay-peer-") as tmp:
        subprocess.run([writer, "--peer-write", tmp] + ([data] if data else []), check=True)
        expects = sorted(glob.glob(os.path.join(tmp, "*.expect")))
        if not expects:
            fail("the writer produced no files")
        for exp in expects:
            path = exp[:-len(".expect")]
            want = read_expect(exp)
            if path.endswith(".mca"):
                check_mca(path, want)
            else:
                check_msa(path, want)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("PyMca agrees with magassay on every file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
