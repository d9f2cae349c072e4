/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A program built against the installed libmagassay (tests/install): writes a
 * spectrum as EMSA/MSA and reads it back through the public API. */
#include <stdio.h>
#include <string.h>

#include <magassay/error.h>
#include <magassay/format.h>
#include <magassay/spectrum.h>
#include <magassay/version.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: client OUT.msa\n");
		return 2;
	}
	mg_spectrum *s = mg_spectrum_new(512);
	if (!s)
		return 1;
	for (size_t i = 0; i < s->nchan; i++)
		s->counts[i] = (double)(i % 7);
	s->cal.valid = 1;
	s->cal.offset_kev = -0.1;
	s->cal.gain_kev = 0.02;
	const mg_format *msa = mg_format_by_name("msa");
	mg_spectrum *back = NULL;
	int rc = msa ? mg_spectrum_write_file(s, argv[1], msa) : MG_ERR_NOT_FOUND;
	if (rc == MG_OK)
		rc = mg_spectrum_read_file(argv[1], NULL, &back);
	if (rc != MG_OK) {
		fprintf(stderr, "client: %s: %s\n", mg_strerror(rc), mg_error_detail());
		mg_spectrum_free(s);
		return 1;
	}
	int same = back->nchan == s->nchan && mg_spectrum_total(back) == mg_spectrum_total(s);
	printf("magassay %s: %zu channels, %.0f counts read back\n", MAGASSAY_VERSION_STRING, back->nchan,
	       mg_spectrum_total(back));
	mg_spectrum_free(back);
	mg_spectrum_free(s);
	return same ? 0 : 1;
}
