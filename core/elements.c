/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Chemical element symbols <-> atomic numbers (elements.h). */
#include "elements.h"

#include "internal.h"
#include "text.h"

static const char *const symbols[] = {
	"",   "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si",
	"P",  "S",  "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu",
	"Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru",
	"Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr",
	"Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W",
	"Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac",
	"Th", "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf"};
#define NSYM ((int)MG_ARRAY_SIZE(symbols))

int mg_element_z(const char *s, size_t n)
{
	if (!s || n == 0 || n > 2)
		return -1;
	for (int z = 1; z < NSYM; z++)
		if (mg_equals_ci(s, n, symbols[z]))
			return z;
	return -1;
}

const char *mg_element_symbol(int z)
{
	return z > 0 && z < NSYM ? symbols[z] : "?";
}
