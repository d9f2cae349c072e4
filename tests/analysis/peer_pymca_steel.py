#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""PyMca 5.8 fits PyMca's own Steel.spe with its own Steel.cfg (the peer of
test_analysis_steel, which runs this script and compares its figures).

usage: peer_pymca_steel.py SHARED_DATA_DIR

Prints one line per fitted group, "area <group> <area> <sigma>", then
"chisq <reduced chi2>" and "calib <zero> <gain> <noise> <fano>".
Exit 0, or 77 (skip) where PyMca5 cannot be imported by this interpreter.
"""
import os
import sys

try:
    import numpy
    from PyMca5.PyMcaIO import ConfigDict, specfilewrapper
    from PyMca5.PyMcaPhysics.xrf import ClassMcaTheory
except Exception as exc:  # ImportError or a broken install
    print("SKIP: PyMca5 cannot be imported by %s (%s); install python3-pymca5 (Debian) "
          "or configure with -DMAGASSAY_PEER_PYTHON=/path/to/python3" % (sys.executable, exc))
    sys.exit(77)

data = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
spe = os.path.join(data, "pymca", "Steel.spe")
cfgfile = os.path.join(data, "pymca", "Steel.cfg")
if not os.path.exists(spe) or not os.path.exists(cfgfile):
    print("SKIP: %s or Steel.cfg absent" % spe)
    sys.exit(77)

cfg = ConfigDict.ConfigDict()
cfg.read(cfgfile)
y = numpy.asarray(specfilewrapper.Specfile(spe)[0].mca(1), dtype=float)
x = numpy.arange(len(y), dtype=float)
fit = ClassMcaTheory.McaTheory()
fit.configure(cfg)
fit.setData(x, y, xmin=cfg["fit"]["xmin"], xmax=cfg["fit"]["xmax"])
fit.estimate()
fit.startfit(digest=0)
res = fit.digestresult()
for group in res["groups"]:
    print("area %s %.6f %.6f" % (group.replace(" ", "_"), res[group]["fitarea"],
                                 res[group]["sigmaarea"]))
print("chisq %.6f" % res["chisq"])
par = dict(zip(res["parameters"], res["fittedpar"]))
print("calib %.9f %.9f %.6f %.6f" % (par["Zero"], par["Gain"], par["Noise"], par["Fano"]))
