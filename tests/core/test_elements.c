/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Element symbols <-> atomic numbers (core/elements.h). */
#include <string.h>

#include "check.h"
#include "elements.h"

int main(void)
{
	CHECK(mg_element_z("H", 1) == 1);
	CHECK(mg_element_z("Fe", 2) == 26);
	CHECK(mg_element_z("fe", 2) == 26);
	CHECK(mg_element_z("ND", 2) == 60);
	CHECK(mg_element_z("Cf", 2) == 98);
	CHECK(mg_element_z("Fe,Nd", 2) == 26); /* a view: only n bytes count */
	CHECK(mg_element_z("Es", 2) == -1);     /* beyond the table */
	CHECK(mg_element_z("Xx", 2) == -1);
	CHECK(mg_element_z("Fee", 3) == -1);
	CHECK(mg_element_z("", 0) == -1);
	CHECK(mg_element_z(NULL, 2) == -1);
	for (int z = 1; z <= 98; z++) {
		const char *s = mg_element_symbol(z);
		CHECK_MSG(mg_element_z(s, strlen(s)) == z, "round trip of Z %d (%s)", z, s);
	}
	CHECK(strcmp(mg_element_symbol(0), "?") == 0);
	CHECK(strcmp(mg_element_symbol(99), "?") == 0);
	CHECK(strcmp(mg_element_symbol(-1), "?") == 0);
	return mg_test_finish("test_elements");
}
