/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Content detection: a small sample of each of the seven formats is
 * recognised by its content alone (saved under a misleading file name), the
 * winning probe is unambiguous, and garbage is refused with a clear message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/format.h"

/* Every sample holds the counts 0, 17, 5, 2. */
static const char mca_sample[] = "<<PMCA SPECTRUM>>\r\n"
                                 "TAG - live_data\r\n"
                                 "DESCRIPTION - detect\r\n"
                                 "GAIN - 2\r\n"
                                 "THRESHOLD - 0\r\n"
                                 "LIVE_MODE - 0\r\n"
                                 "PRESET_TIME - 120\r\n"
                                 "LIVE_TIME - 109.680000\r\n"
                                 "REAL_TIME - 120.000000\r\n"
                                 "START_TIME - 10/03/2011 10:16:08\r\n"
                                 "SERIAL_NUMBER - 1668\r\n"
                                 "<<DATA>>\r\n"
                                 "0\r\n"
                                 "17\r\n"
                                 "5\r\n"
                                 "2\r\n"
                                 "<<END>>\r\n";

static const char msa_sample[] = "#FORMAT      : EMSA/MAS Spectral Data File\n"
                                 "#VERSION     : 1.0\n"
                                 "#TITLE       : detect\n"
                                 "#DATE        : 20-NOV-2006\n"
                                 "#TIME        : 11:57\n"
                                 "#OWNER       : magassay\n"
                                 "#NPOINTS     : 4.\n"
                                 "#NCOLUMNS    : 4.\n"
                                 "#XUNITS      : keV\n"
                                 "#YUNITS      : counts\n"
                                 "#DATATYPE    : Y\n"
                                 "#XPERCHAN    : 0.01\n"
                                 "#OFFSET      : -0.2\n"
                                 "#SIGNALTYPE  : XRF\n"
                                 "#SPECTRUM    :\n"
                                 "0.0, 17.0, 5.0, 2.0,\n"
                                 "#ENDOFDATA   :\n";

static const char csv_sample[] = "channel,energy_keV,counts\n0,-0.2,0\n1,-0.19,17\n2,-0.18,5\n3,-0.17,2\n";

static const char spx_sample[] =
	"<?xml version=\"1.0\" encoding=\"WINDOWS-1252\" standalone=\"yes\"?>\n"
	"<TRTSpectrum>\n"
	"  <ClassInstance Type=\"TRTSpectrum\" Name=\"detect\">\n"
	"    <ClassInstance Type=\"TRTSpectrumHeader\">\n"
	"      <ChannelCount>4</ChannelCount><CalibAbs>-0.2</CalibAbs><CalibLin>0.01</CalibLin>\n"
	"    </ClassInstance>\n"
	"    <Channels>0,17,5,2</Channels>\n"
	"  </ClassInstance>\n"
	"</TRTSpectrum>\n";

static const char spe_sample[] = "$SPEC_ID:\ndetect\n$DATA:\n0 3\n0\n17\n5\n2\n$ENER_FIT:\n-0.2 0.01\n";

static const char columns_sample[] = "# detect\n0\n17\n5\n2\n";

static void chn_sample(unsigned char b[48])
{
	static const uint32_t counts[4] = {0, 17, 5, 2};
	memset(b, 0, 48);
	b[0] = 0xff; /* int16 -1 */
	b[1] = 0xff;
	memcpy(b + 6, "08", 2);
	b[8] = 100; /* real time: 100 ticks = 2 s */
	b[12] = 90; /* live time */
	memcpy(b + 16, "03OCT111", 8);
	memcpy(b + 24, "1016", 4);
	b[30] = 4; /* 4 channels */
	for (int i = 0; i < 4; i++)
		b[32 + 4 * i] = (unsigned char)counts[i];
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(data, 1, len, f);
	return fclose(f) == 0 && w == len ? 0 : -1;
}

/* Detected as `want` from memory, unambiguously, and read through a file whose
 * name suggests another format. */
static void check_sample(mg_format_id want, const char *misleading_name, const void *data, size_t len)
{
	const mg_format *w = mg_format_get(want);
	const unsigned char *p = data;
	CHECK(w != NULL);
	if (!w)
		return;
	const mg_format *got = mg_format_detect(p, len);
	CHECK_MSG(got == w, "%s sample detected as %s", w->name, got ? got->name : "(nothing)");

	/* The winner's score beats every other format's. */
	size_t n;
	const mg_format *const *all = mg_formats(&n);
	int best = w->probe(p, len);
	CHECK_MSG(best > 0, "%s sample: its own probe says %d", w->name, best);
	for (size_t i = 0; best > 0 && i < n; i++) {
		if (all[i] == w)
			continue;
		int other = all[i]->probe(p, len);
		CHECK_MSG(other < best, "%s sample: %s probes %d, %s only %d", w->name, all[i]->name, other, w->name,
		          best);
	}

	char path[512];
	snprintf(path, sizeof(path), "%s/%s", mg_test_tmpdir(), misleading_name);
	if (write_file(path, data, len) != 0) {
		CHECK_MSG(0, "cannot write %s", path);
		return;
	}
	const mg_format *f = NULL;
	mg_spectrum *s = NULL;
	int rc = mg_spectrum_read_file(path, &f, &s);
	CHECK_MSG(rc == MG_OK, "%s sample as %s: %s", w->name, misleading_name, mg_error_detail());
	if (rc != MG_OK)
		return;
	CHECK_MSG(f == w, "%s sample read as %s", w->name, f ? f->name : "(null)");
	CHECK_MSG(s->nchan == 4, "%s sample: %zu channels", w->name, s->nchan);
	CHECK_MSG(mg_spectrum_total(s) == 24, "%s sample: total %g", w->name, mg_spectrum_total(s));
	if (s->nchan == 4)
		CHECK_MSG(s->counts[1] == 17 && s->counts[3] == 2, "%s sample: counts differ", w->name);
	mg_spectrum_free(s);
	remove(path);
}

static void check_garbage(const char *what, const void *data, size_t len, const char *needle)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", mg_test_tmpdir(), what);
	if (write_file(path, data, len) != 0) {
		CHECK_MSG(0, "cannot write %s", path);
		return;
	}
	CHECK_MSG(mg_format_detect(data, len) == NULL || len == 0, "%s: detected as %s", what,
	          mg_format_detect(data, len)->name);
	mg_spectrum *s = NULL;
	int rc = mg_spectrum_read_file(path, NULL, &s);
	CHECK_MSG(rc == MG_ERR_FORMAT, "%s: rc %d", what, rc);
	CHECK_MSG(s == NULL, "%s: a spectrum was returned", what);
	CHECK_MSG(strstr(mg_error_detail(), needle) != NULL, "%s: detail '%s' lacks '%s'", what, mg_error_detail(),
	          needle);
	CHECK_MSG(strstr(mg_error_detail(), what) != NULL, "%s: detail '%s' does not name the file", what,
	          mg_error_detail());
	if (rc == MG_OK)
		mg_spectrum_free(s);
	remove(path);
}

int main(void)
{
	unsigned char chn[48];
	chn_sample(chn);
	check_sample(MG_FORMAT_MCA, "amptek.spe", mca_sample, strlen(mca_sample));
	check_sample(MG_FORMAT_MSA, "emsa.csv", msa_sample, strlen(msa_sample));
	check_sample(MG_FORMAT_CSV, "table.msa", csv_sample, strlen(csv_sample));
	check_sample(MG_FORMAT_SPX, "bruker.chn", spx_sample, strlen(spx_sample));
	check_sample(MG_FORMAT_SPE, "ortec.mca", spe_sample, strlen(spe_sample));
	check_sample(MG_FORMAT_CHN, "ortec.spx", chn, sizeof(chn));
	check_sample(MG_FORMAT_COLUMNS, "plain.mca", columns_sample, strlen(columns_sample));

	/* Garbage */
	unsigned char rnd[4096];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(rnd); i++) {
		x = x * 1103515245u + 12345u;
		rnd[i] = (unsigned char)(x >> 16);
	}
	rnd[0] = 0x89; /* not the .Chn magic */
	const char *unknown = "not a spectrum format magassay reads";
	check_garbage("random.mca", rnd, sizeof(rnd), unknown);
	check_garbage("empty.spe", "", 0, "empty file");
	const char *prose = "Dear lab,\nplease find the spectrum attached.\n";
	check_garbage("letter.txt", prose, strlen(prose), unknown);
	const char *json = "{\"channels\": [0, 17, 5, 2]}\n";
	check_garbage("spectrum.json", json, strlen(json), unknown);
	const char *xml = "<?xml version=\"1.0\"?>\n<Spectrum><Channels>0,17,5,2</Channels></Spectrum>\n";
	check_garbage("other.spx", xml, strlen(xml), unknown);
	const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
	check_garbage("picture.chn", png, sizeof(png), unknown);
	return mg_test_finish("test_detect");
}
