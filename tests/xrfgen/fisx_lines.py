#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Line intensities from PyMca's fisx for the test generator (tests/xrfgen).

xrfgen's mode XRG_DATA_FISX hands the tube beam, the geometry and the samples
to this script; fisx's own XRF class (EPDL97 cross sections, PyMca's shell
constants and radiative rates, its own line energies, primary and de Boer
secondary fluorescence, intra- and interlayer) computes every K and L line of
every element, and the table goes back to C. Run with Debian's interpreter,
/usr/bin/python3 (python3-fisx), not a python3 found on PATH.

    fisx_lines.py --check OUT          "ok <fisx version>" or "skip <why>" (exit 77)
    fisx_lines.py REQUEST OUT          compute; exit 0, 77 (no fisx) or 1

REQUEST (text):
    xrfgen-fisx-request 1
    geometry PSI1 PSI2                 degrees from the surface
    secondary 0|1|2                    none, intralayer, intra + interlayer
    beam N                             then N lines: E_keV PHOTONS_PER_S FLAG (1 = tube line)
    samples M                          then M samples:
    sample INDEX NLAYERS               then per layer:
    layer DENSITY THICKNESS_CM N       then N lines: Z MASS_FRACTION
OUT (text):
    xrfgen-fisx-lines 1 fisx VERSION
    sample INDEX NLINES                then NLINES lines:
    Z SHELL LABEL E_keV PRIMARY SECONDARY LAYER
    end
SHELL is 0 K, 1 L1, 2 L2, 3 L3. PRIMARY and SECONDARY are photons/s leaving
the sample towards the detector (the layers above included; solid angle,
detector and air not): fisx's normalised rates times the beam's photons/s.
"""
import sys

SYMBOLS = ("H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br "
           "Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er "
           "Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U").split()
SHELLS = {"K": 0, "L1": 1, "L2": 2, "L3": 3}
MIN_LINE_KEV = 0.9


def skip(out, why):
    with open(out, "w") as f:
        f.write("skip %s\n" % why)
    sys.stderr.write("fisx_lines.py: %s\n" % why)
    sys.exit(77)


def read_request(path):
    with open(path) as f:
        tok = [line.split() for line in f if line.strip() and not line.startswith("#")]
    it = iter(tok)
    head = next(it)
    if head[:2] != ["xrfgen-fisx-request", "1"]:
        raise ValueError("not a request: %s" % " ".join(head))
    req = {"samples": []}
    for t in it:
        if t[0] == "geometry":
            req["psi"] = (float(t[1]), float(t[2]))
        elif t[0] == "secondary":
            req["secondary"] = int(t[1])
        elif t[0] == "beam":
            beam = [next(it) for _ in range(int(t[1]))]
            req["beam"] = sorted((float(b[0]), float(b[1]), int(b[2])) for b in beam)
        elif t[0] == "samples":
            for _ in range(int(t[1])):
                s = next(it)
                if s[0] != "sample":
                    raise ValueError("expected a sample, got %s" % s[0])
                layers = []
                for _ in range(int(s[2])):
                    lay = next(it)
                    comp = [next(it) for _ in range(int(lay[3]))]
                    layers.append((float(lay[1]), float(lay[2]),
                                   {SYMBOLS[int(z) - 1]: float(w) for z, w in comp}))
                req["samples"].append((int(s[1]), layers))
        else:
            raise ValueError("unknown request line %s" % t[0])
    return req


def compute(req, out):
    import fisx
    elements = fisx.Elements()
    elements.initializeAsPyMca()
    energies = [b[0] for b in req["beam"]]
    weights = [b[1] for b in req["beam"]]
    flags = [b[2] for b in req["beam"]]
    photons = sum(weights)          # fisx normalises the beam: scale back to photons/s
    kv = max(energies)
    xrf = fisx.XRF()
    xrf.setBeam(energies, weights, flags, [0.0] * len(energies))
    xrf.setGeometry(req["psi"][0], req["psi"][1])
    # the cache of cross sections at the beam and line energies (as PyMca's FisxHelper does)
    symbols = sorted({el for _, layers in req["samples"] for _, _, comp in layers for el in comp})
    emitted = []
    for el in symbols:
        emitted += list(elements.getEmittedXRayLines(el).values())
    for el in symbols:
        elements.updateCache(el, energies)
        elements.updateCache(el, emitted)
        elements.setCacheEnabled(el, 1)
        elements.setElementCascadeCacheEnabled(el, 1)
    with open(out, "w") as f:
        f.write("xrfgen-fisx-lines 1 fisx %s\n" % fisx.version())
        for index, layers in req["samples"]:
            spec = []
            families = []
            for k, (density, thickness, comp) in enumerate(layers):
                name = "xrfgen_%d_%d" % (index, k)
                m = fisx.Material(name, density, 1.0)
                m.setComposition(comp)
                elements.addMaterial(m)
                # thickness 0: the substrate, thick for every line (1 cm)
                spec.append([name, density, thickness if thickness > 0 else 1.0])
                for el in comp:
                    edges = elements.getBindingEnergies(el)
                    for sh in SHELLS:
                        fam = "%s %s" % (el, sh)
                        if 0 < edges.get(sh, 0) < kv and fam not in families:
                            families.append(fam)
            xrf.setSample(spec)
            # secondaryCalculationLimit 0.01: fisx leaves out the weakest secondary sources;
            # on a magnet that moves a secondary part by < 3 % and a line by < 0.05 %, 3x faster
            fluo = xrf.getMultilayerFluorescence(families, elements, secondary=req["secondary"],
                                                 useMassFractions=1, secondaryCalculationLimit=0.01)
            rows = []
            for fam, per_layer in fluo.items():
                el, sh = fam.split()
                z = SYMBOLS.index(el) + 1
                for layer, lines in per_layer.items():
                    for label, d in lines.items():
                        e, p, s = d.get("energy", 0.0), d.get("primary", 0.0), d.get("secondary", 0.0)
                        if e < MIN_LINE_KEV or not p + s > 0:
                            continue
                        # the layers above on the way out are in "efficiency" (rate = (p + s) × it)
                        eff = d["rate"] / (p + s)
                        rows.append("%d %d %s %.6f %.10g %.10g %d\n" %
                                    (z, SHELLS[sh], label, e, p * eff * photons, s * eff * photons, int(layer)))
            f.write("sample %d %d\n" % (index, len(rows)))
            f.writelines(rows)
            elements.removeMaterials()
        f.write("end\n")


def main(argv):
    if len(argv) == 3 and argv[1] == "--check":
        try:
            import fisx
        except Exception as exc:  # ImportError, or a broken installation
            skip(argv[2], "python3-fisx is not installed for %s (%s)" % (sys.executable, exc))
        with open(argv[2], "w") as f:
            f.write("ok %s\n" % fisx.version())
        return 0
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    try:
        import fisx  # noqa: F401
    except Exception as exc:
        skip(argv[2], "python3-fisx is not installed for %s (%s)" % (sys.executable, exc))
    compute(read_request(argv[1]), argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
