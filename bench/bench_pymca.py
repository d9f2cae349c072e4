#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time PyMca 5.8's fit of the spectra bench_analysis wrote (the peer half of
bench/bench_analysis.c, which runs this script in the same command).

usage: bench_pymca.py SPECTRA.txt OFFSET_KEV GAIN_KEV XMIN XMAX SECONDS

SPECTRA.txt: one spectrum per line (counts, blank separated). The fit: the
families Fe K, Co K, Nd L, Pr L, Dy L, Tb L on PyMca's defaults (strip
background, Gaussian peaks, escape, pile-up), calibration and window as given;
McaTheory configured once, then setData/estimate/startfit per spectrum, the
way McaAdvancedFitBatch fits a batch. Both the nonlinear fit (PyMca's default:
calibration and resolution refined) and its linear mode (linearfitflag=1,
the FastXRF path) are timed, for at least SECONDS each, on one core.

Prints "nonlinear <spectra/s> <n>" and "linear <spectra/s> <n>".
Exit 77 (skip) where PyMca5 cannot be imported.
"""
import sys
import time

try:
    import numpy
    from PyMca5.PyMcaPhysics.xrf import ClassMcaTheory
except Exception as exc:
    print("SKIP: PyMca5 cannot be imported by %s (%s)" % (sys.executable, exc))
    sys.exit(77)

path, off, gain, xmin, xmax, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
spectra = numpy.loadtxt(path, ndmin=2)
x = numpy.arange(spectra.shape[1], dtype=float)


def configure(linear):
    m = ClassMcaTheory.McaTheory()
    cfg = m.getConfiguration()
    cfg["peaks"] = {"Fe": "K", "Co": "K", "Nd": "L", "Pr": "L", "Dy": "L", "Tb": "L"}
    cfg["detector"]["zero"] = off
    cfg["detector"]["gain"] = gain
    cfg["detector"]["noise"] = 0.08
    cfg["detector"]["fano"] = 0.114
    cfg["fit"]["xmin"] = xmin
    cfg["fit"]["xmax"] = xmax
    cfg["fit"]["use_limit"] = 1
    cfg["fit"]["escapeflag"] = 1
    cfg["fit"]["sumflag"] = 1
    cfg["fit"]["linearfitflag"] = 1 if linear else 0
    cfg["fit"]["energy"] = [40.0]
    cfg["fit"]["energyweight"] = [1.0]
    cfg["fit"]["energyflag"] = [1]
    cfg["fit"]["energyscatter"] = [0]
    m.configure(cfg)
    return m


for linear in (0, 1):
    m = configure(linear)
    n = 0
    t0 = time.perf_counter()
    while True:
        y = spectra[n % len(spectra)]
        m.setData(x, y, xmin=xmin, xmax=xmax)
        m.estimate()
        m.startfit(digest=0)
        n += 1
        t = time.perf_counter() - t0
        if t >= seconds and n >= 3:
            break
    print("%s %.3f %d" % ("linear" if linear else "nonlinear", n / t, n))
    sys.stdout.flush()
