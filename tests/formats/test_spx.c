/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Bruker .spx reader: hand-written XML, every malformed case named. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/format.h"

/* A small but complete Esprit file; the test replaces marked parts. */
static const char base[] =
	"<?xml version=\"1.0\" encoding=\"WINDOWS-1252\" standalone=\"yes\"?>\n"
	"<TRTSpectrum>\n"
	"  <RTHeader/>\n"
	"  <ClassInstance Type=\"TRTSpectrum\" Name=\"acryl \xe9 1\">\n"
	"    <TRTHeaderedClass>\n"
	"      <ClassInstance Type=\"TRTSpectrumHardwareHeader\">\n"
	"        <TRTKnownHeader><Type>RTHardware</Type><Size>167</Size></TRTKnownHeader>\n"
	"        <RealTime>@REAL@</RealTime>\n"
	"        <LifeTime>120027</LifeTime>\n"
	"        <DeadTime>3</DeadTime>\n"
	"      </ClassInstance>\n"
	"      <ClassInstance Type=\"TRTDetectorHeader\">\n"
	"        <TRTKnownHeader><Type>RTDetector</Type></TRTKnownHeader>\n"
	"        <Technology>SDDpr</Technology>\n"
	"        <Serial>11881_0239</Serial>\n"
	"        <Type>XFlash 430</Type>\n"
	"        <DetectorThickness>0.45</DetectorThickness>\n"
	"        <SiDeadLayerThickness>0.029</SiDeadLayerThickness>\n"
	"        <DetLayers>eJyzcUkt8Q==</DetLayers>\n"
	"        <WindowLayers><Layer0 Atom=\"4\" Thickness=\"1.3E1\"/></WindowLayers>\n"
	"        <Corrections><Escape/></Corrections>\n"
	"        <ResponseFunction>0,1</ResponseFunction>\n"
	"        <ResponseFunction>0,2</ResponseFunction>\n"
	"      </ClassInstance>\n"
	"      <ClassInstance Type=\"TRTXrfHeader\">\n"
	"        <Voltage>50</Voltage>\n"
	"        <Current>@CURRENT@</Current>\n"
	"        <Anode>@ANODE@</Anode>\n"
	"        <ExcitationFilter><FilterId>Al12.5</FilterId><NofLayer>1</NofLayer>"
	"<AtomicNumber>13</AtomicNumber><Thickness>1.25E1</Thickness></ExcitationFilter>\n"
	"        <ExcitationAngle>5E1</ExcitationAngle>\n"
	"        <DetectionAngle>45</DetectionAngle>\n"
	"        <ChamberPressure>@PRESSURE@</ChamberPressure>\n"
	"        <Atmosphere>Air</Atmosphere>\n"
	"      </ClassInstance>\n"
	"    </TRTHeaderedClass>\n"
	"    <ClassInstance Type=\"TRTSpectrumHeader\">\n"
	"      <Size>82</Size>\n"
	"      <Date>@DATE@</Date>\n"
	"      <Time>11:2:59</Time>\n"
	"      @COUNT@\n"
	"      @CAL@\n"
	"      <SigmaAbs>1.02E-3</SigmaAbs>\n"
	"    </ClassInstance>\n"
	"    @CHANNELS@\n"
	"    <ChildClassInstances>\n"
	"      <ClassInstance Type=\"TRTSpectrum\" Name=\"Background\">\n"
	"        <ClassInstance Type=\"TRTSpectrumHeader\"><ChannelCount>2</ChannelCount></ClassInstance>\n"
	"        <Channels>999,999</Channels>\n"
	"      </ClassInstance>\n"
	"    </ChildClassInstances>\n"
	"  </ClassInstance>\n"
	"</TRTSpectrum>\n";

typedef struct subst {
	const char *mark, *value;
} subst;

/* base with the marks replaced: defaults, overridden by `over` (NULL-terminated). */
static char *make(const subst *over)
{
	subst defs[] = {
		{"@REAL@", "123650"},
		{"@CURRENT@", "99"},
		{"@ANODE@", "45"},
		{"@PRESSURE@", "2E1"},
		{"@DATE@", "10.5.2017"},
		{"@COUNT@", "<ChannelCount>4</ChannelCount>"},
		{"@CAL@", "<CalibAbs>-9.5639563E-1</CalibAbs><CalibLin>1.0001E-2</CalibLin>"},
		{"@CHANNELS@", "<Channels>0,5,17,3</Channels>"},
	};
	char *s = strdup(base);
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		const char *v = defs[i].value;
		for (const subst *o = over; o && o->mark; o++)
			if (strcmp(o->mark, defs[i].mark) == 0)
				v = o->value;
		char *at = strstr(s, defs[i].mark);
		if (!at)
			abort();
		size_t ml = strlen(defs[i].mark), vl = strlen(v), sl = strlen(s);
		char *t = malloc(sl - ml + vl + 1);
		memcpy(t, s, (size_t)(at - s));
		memcpy(t + (at - s), v, vl);
		strcpy(t + (at - s) + vl, at + ml);
		free(s);
		s = t;
	}
	return s;
}

static const mg_format *fmt(void)
{
	return mg_format_get(MG_FORMAT_SPX);
}

static int read_text(const char *text, mg_spectrum **s)
{
	*s = NULL;
	return fmt()->read((const unsigned char *)text, strlen(text), s);
}

/* The reader must fail with `code` and a detail containing `needle`. */
static void expect_fail_code(const char *what, const char *text, size_t len, int code, const char *needle)
{
	mg_spectrum *s = NULL;
	int rc = fmt()->read((const unsigned char *)text, len, &s);
	CHECK_MSG(rc == code, "%s: rc %d (%s), wanted %d", what, rc, mg_error_detail(), code);
	CHECK_MSG(s == NULL, "%s: a spectrum was returned on failure", what);
	CHECK_MSG(strstr(mg_error_detail(), needle) != NULL, "%s: detail '%s' lacks '%s'", what,
	          mg_error_detail(), needle);
	if (rc == MG_OK)
		mg_spectrum_free(s);
}

static void expect_fail(const char *what, const char *text, const char *needle)
{
	expect_fail_code(what, text, strlen(text), MG_ERR_FORMAT, needle);
}

static void expect_fail_with(const char *what, const char *mark, const char *value, const char *needle)
{
	subst o[] = {{mark, value}, {NULL, NULL}};
	char *t = make(o);
	expect_fail(what, t, needle);
	free(t);
}

static void test_good(void)
{
	char *t = make(NULL);
	mg_spectrum *s;
	CHECK_RC(read_text(t, &s), MG_OK);
	if (!s) {
		free(t);
		return;
	}
	CHECK(s->nchan == 4);
	CHECK(s->counts[0] == 0 && s->counts[1] == 5 && s->counts[2] == 17 && s->counts[3] == 3);
	CHECK_NEAR(s->real_time_s, 123.650, 1e-9);
	CHECK_NEAR(s->live_time_s, 120.027, 1e-9);
	CHECK(s->cal.valid);
	CHECK_NEAR(s->cal.offset_kev, -0.95639563, 1e-12);
	CHECK_NEAR(s->cal.gain_kev, 0.010001, 1e-12);
	CHECK(s->cal.quad_kev == 0);
	CHECK(strcmp(s->start_time, "2017-05-10T11:02:59") == 0);
	CHECK(s->instrument.model && strcmp(s->instrument.model, "XFlash 430") == 0);
	CHECK(s->instrument.serial && strcmp(s->instrument.serial, "11881_0239") == 0);
	CHECK_MSG(s->instrument.detector &&
	              strcmp(s->instrument.detector, "XFlash 430 SDDpr, Si 0.45 mm, dead layer 0.029 um") == 0,
	          "detector '%s'", s->instrument.detector ? s->instrument.detector : "(null)");
	CHECK_NEAR(s->acq.tube_kv, 50, 0);
	CHECK_NEAR(s->acq.tube_ua, 99, 0);
	CHECK(s->acq.anode && strcmp(s->acq.anode, "Rh") == 0);
	CHECK(s->acq.filter && strcmp(s->acq.filter, "Al:12.5") == 0);
	CHECK_NEAR(s->acq.incidence_deg, 50, 0);
	CHECK_NEAR(s->acq.takeoff_deg, 45, 0);
	CHECK(s->acq.atmosphere && strcmp(s->acq.atmosphere, "vacuum") == 0); /* 20 mbar */
	/* The Windows-1252 name arrives as UTF-8. */
	CHECK_MSG(s->sample.description && strcmp(s->sample.description, "acryl \xc3\xa9 1") == 0,
	          "description '%s'", s->sample.description ? s->sample.description : "(null)");

	/* Unmapped values are kept under their path; mapped ones are not duplicated. */
	const mg_kvlist *m = &s->meta;
	CHECK(mg_kvlist_get(m, "spx.TRTSpectrumHardwareHeader.DeadTime") &&
	      strcmp(mg_kvlist_get(m, "spx.TRTSpectrumHardwareHeader.DeadTime"), "3") == 0);
	CHECK(mg_kvlist_get(m, "spx.TRTSpectrumHardwareHeader.TRTKnownHeader.Type") != NULL);
	CHECK(mg_kvlist_get(m, "spx.TRTSpectrumHardwareHeader.RealTime") == NULL);
	CHECK(mg_kvlist_get(m, "spx.TRTDetectorHeader.DetLayers") &&
	      strcmp(mg_kvlist_get(m, "spx.TRTDetectorHeader.DetLayers"), "eJyzcUkt8Q==") == 0);
	CHECK(mg_kvlist_get(m, "spx.TRTDetectorHeader.Serial") != NULL); /* derived: kept too */
	CHECK(mg_kvlist_get(m, "spx.TRTDetectorHeader.WindowLayers.Layer0@Atom") &&
	      strcmp(mg_kvlist_get(m, "spx.TRTDetectorHeader.WindowLayers.Layer0@Atom"), "4") == 0);
	CHECK(mg_kvlist_get(m, "spx.TRTXrfHeader.ChamberPressure") != NULL);
	CHECK(mg_kvlist_get(m, "spx.TRTXrfHeader.Voltage") == NULL);
	CHECK(mg_kvlist_get(m, "spx.TRTSpectrumHeader.SigmaAbs") != NULL);
	CHECK(mg_kvlist_get(m, "spx.TRTSpectrumHeader.ChannelCount") == NULL);
	CHECK(mg_kvlist_get(m, "spx.TRTSpectrumHeader.Date") == NULL);
	CHECK(mg_kvlist_get(m, "spx.RTHeader") == NULL); /* empty element */
	size_t rf = 0;
	for (size_t i = 0; i < m->count; i++)
		rf += strcmp(m->items[i].key, "spx.TRTDetectorHeader.ResponseFunction") == 0;
	CHECK(rf == 2);
	/* The nested Background spectrum is a result, not the spectrum. */
	CHECK(mg_kvlist_get(m, "spx.TRTSpectrum@Name") && strcmp(mg_kvlist_get(m, "spx.TRTSpectrum@Name"), "Background") == 0);
	CHECK(mg_kvlist_get(m, "spx.TRTSpectrum.Channels") &&
	      strcmp(mg_kvlist_get(m, "spx.TRTSpectrum.Channels"), "999,999") == 0);
	CHECK(mg_spectrum_validate(s) == MG_OK);
	mg_spectrum_free(s);
	free(t);

	/* Probe */
	t = make(NULL);
	CHECK(fmt()->probe((const unsigned char *)t, strlen(t)) == 100);
	free(t);
	const char *other = "<?xml version=\"1.0\"?>\n<!-- c -->\n<MSA><TRTSpectrum/></MSA>\n";
	CHECK(fmt()->probe((const unsigned char *)other, strlen(other)) == 0);
	const char *bare = "<TRTSpectrum><ClassInstance Type=\"TRTSpectrum\"/></TRTSpectrum>";
	CHECK(fmt()->probe((const unsigned char *)bare, strlen(bare)) == 100);
	const char *txt = "0\n1\n2\n";
	CHECK(fmt()->probe((const unsigned char *)txt, strlen(txt)) == 0);
}

static void test_variants(void)
{
	mg_spectrum *s;
	/* Air at ambient pressure, no calibration (CalibLin 0), date only, trailing comma. */
	subst o[] = {{"@PRESSURE@", "1013"},
	             {"@CAL@", "<CalibAbs>0</CalibAbs><CalibLin>0</CalibLin>"},
	             {"@CHANNELS@", "<Channels>1,2,3,4,</Channels>"},
	             {NULL, NULL}};
	char *t = make(o);
	CHECK_RC(read_text(t, &s), MG_OK);
	if (s) {
		CHECK(s->acq.atmosphere && strcmp(s->acq.atmosphere, "air") == 0);
		CHECK(!s->cal.valid);
		CHECK(mg_kvlist_get(&s->meta, "spx.TRTSpectrumHeader.CalibLin") != NULL);
		CHECK(s->counts[3] == 4);
		mg_spectrum_free(s);
	}
	free(t);

	/* Minimal: no headers at all but the spectrum header. */
	const char *min = "<TRTSpectrum><ClassInstance Type=\"TRTSpectrum\">"
	                  "<ClassInstance Type=\"TRTSpectrumHeader\"><ChannelCount>3</ChannelCount></ClassInstance>"
	                  "<Channels>1, 2 ,3</Channels></ClassInstance></TRTSpectrum>";
	CHECK_RC(read_text(min, &s), MG_OK);
	if (s) {
		CHECK(s->nchan == 3 && s->counts[1] == 2);
		CHECK(!s->cal.valid && isnan(s->live_time_s) && s->start_time[0] == '\0');
		CHECK(s->sample.description == NULL && s->instrument.model == NULL);
		mg_spectrum_free(s);
	}

	/* SEM header fills tube kV and take-off when there is no XRF header. */
	const char *sem = "<TRTSpectrum><ClassInstance Type=\"TRTSpectrum\"><TRTHeaderedClass>"
	                  "<ClassInstance Type=\"TRTESMAHeader\"><PrimaryEnergy>20</PrimaryEnergy>"
	                  "<ElevationAngle>35</ElevationAngle><WorkingDistance>10</WorkingDistance></ClassInstance>"
	                  "</TRTHeaderedClass>"
	                  "<ClassInstance Type=\"TRTSpectrumHeader\"><ChannelCount>1</ChannelCount></ClassInstance>"
	                  "<Channels>7</Channels></ClassInstance></TRTSpectrum>";
	CHECK_RC(read_text(sem, &s), MG_OK);
	if (s) {
		CHECK_NEAR(s->acq.tube_kv, 20, 0);
		CHECK_NEAR(s->acq.takeoff_deg, 35, 0);
		CHECK(mg_kvlist_get(&s->meta, "spx.TRTESMAHeader.WorkingDistance") != NULL);
		mg_spectrum_free(s);
	}
}

static void test_malformed(void)
{
	/* Not XML, or not well-formed */
	const unsigned char garbage[] = {0x00, 0xff, 0x13, 0x37, 0x80, 0x01, 0x02, 0x03, 'x', 0x00};
	expect_fail_code("binary garbage", (const char *)garbage, sizeof(garbage), MG_ERR_FORMAT,
	                 "not well-formed XML");
	char *t = make(NULL);
	t[strlen(t) / 2] = '\0';
	expect_fail("truncated XML", t, "line ");
	free(t);
	expect_fail("empty", "", "empty");
	expect_fail("text", "0\n1\n2\n", "not well-formed XML");

	/* Wrong schema */
	expect_fail("other root", "<?xml version=\"1.0\"?>\n<Spectrum><Channels>1</Channels></Spectrum>",
	            "root element <Spectrum> is not <TRTSpectrum>");
	expect_fail("no spectrum instance", "<TRTSpectrum><ClassInstance Type=\"TRTOther\"/></TRTSpectrum>",
	            "no <ClassInstance Type=\"TRTSpectrum\">");
	expect_fail("no spectrum header",
	            "<TRTSpectrum><ClassInstance Type=\"TRTSpectrum\"><Channels>1</Channels></ClassInstance>"
	            "</TRTSpectrum>",
	            "TRTSpectrumHeader");
	expect_fail_with("missing Channels", "@CHANNELS@", "", "no <Channels>");
	expect_fail_with("missing ChannelCount", "@COUNT@", "", "no <ChannelCount>");
	expect_fail_with("two Channels", "@CHANNELS@", "<Channels>1,2,3,4</Channels><Channels>1</Channels>",
	                 "a second <Channels>");
	expect_fail_with("Channels with children", "@CHANNELS@", "<Channels><a>1</a></Channels>",
	                 "<Channels> in the spectrum holds child elements");
	const char *two = "<TRTSpectrum><ClassInstance Type=\"TRTSpectrum\"/><ClassInstance Type=\"TRTSpectrum\"/>"
	                  "</TRTSpectrum>";
	expect_fail_code("two spectra", two, strlen(two), MG_ERR_UNSUPPORTED, "several spectra");

	/* Counts */
	expect_fail_with("fewer channels", "@CHANNELS@", "<Channels>1,2,3</Channels>",
	                 "<Channels> holds 3 values but <ChannelCount> says 4");
	expect_fail_with("more channels", "@CHANNELS@", "<Channels>1,2,3,4,5,6</Channels>",
	                 "<Channels> holds 6 values but <ChannelCount> says 4");
	expect_fail_with("empty channels", "@CHANNELS@", "<Channels></Channels>", "<Channels> is empty");
	expect_fail_with("empty value", "@CHANNELS@", "<Channels>1,,3,4</Channels>",
	                 "<Channels> value 1: '' is not a number");
	expect_fail_with("non-numeric count", "@CHANNELS@", "<Channels>1,2,x3,4</Channels>",
	                 "<Channels> value 2: 'x3' is not a number");
	expect_fail_with("NaN count", "@CHANNELS@", "<Channels>1,NaN,3,4</Channels>", "'NaN' is not a number");
	expect_fail_with("inf count", "@CHANNELS@", "<Channels>1,2,inf,4</Channels>", "'inf' is not a number");
	expect_fail_with("negative count", "@CHANNELS@", "<Channels>1,2,-3,4</Channels>",
	                 "<Channels> value 2: negative counts");
	expect_fail_with("zero channels", "@COUNT@", "<ChannelCount>0</ChannelCount>", "outside 1..16384");
	expect_fail_with("absurd channels", "@COUNT@", "<ChannelCount>100000</ChannelCount>",
	                 "<ChannelCount> in TRTSpectrumHeader: 100000 is outside 1..16384");
	expect_fail_with("fractional channels", "@COUNT@", "<ChannelCount>4.5</ChannelCount>", "<ChannelCount>");
	expect_fail_with("non-numeric ChannelCount", "@COUNT@", "<ChannelCount>four</ChannelCount>",
	                 "<ChannelCount> in TRTSpectrumHeader: 'four' is not a number");

	/* Header values */
	expect_fail_with("non-numeric RealTime", "@REAL@", "12s", "<RealTime> in TRTSpectrumHardwareHeader");
	expect_fail_with("negative RealTime", "@REAL@", "-5", "<RealTime> in TRTSpectrumHardwareHeader: negative");
	expect_fail_with("non-numeric Current", "@CURRENT@", "lots", "<Current> in TRTXrfHeader");
	expect_fail_with("bad anode", "@ANODE@", "200", "<Anode> in TRTXrfHeader: 200 is not an atomic number");
	expect_fail_with("bad pressure", "@PRESSURE@", "low", "<ChamberPressure>");
	expect_fail_with("bad date", "@DATE@", "May 10", "<Date> in TRTSpectrumHeader");
	expect_fail_with("impossible date", "@DATE@", "32.13.2017", "<Date>");
	expect_fail_with("CalibAbs alone", "@CAL@", "<CalibAbs>1</CalibAbs>", "<CalibAbs> without <CalibLin>");
	expect_fail_with("non-numeric CalibLin", "@CAL@", "<CalibAbs>1</CalibAbs><CalibLin>0,01</CalibLin>",
	                 "<CalibLin> in TRTSpectrumHeader: '0,01' is not a number");
	/* the detail names the line of <Channels> */
	long line = 1;
	for (const char *c = base; c < strstr(base, "@CHANNELS@"); c++)
		line += *c == '\n';
	char want[64];
	snprintf(want, sizeof(want), "line %ld: <Channels>", line);
	expect_fail_with("line number", "@CHANNELS@", "<Channels>1,2,3</Channels>", want);

	/* Entities: a DOCTYPE (XXE, billion laughs) is refused, and nothing is fetched. */
	expect_fail("external entity",
	            "<?xml version=\"1.0\"?>\n<!DOCTYPE TRTSpectrum [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
	            "<TRTSpectrum><ClassInstance Type=\"TRTSpectrum\">"
	            "<ClassInstance Type=\"TRTSpectrumHeader\"><ChannelCount>1</ChannelCount></ClassInstance>"
	            "<Channels>1</Channels><Name>&x;</Name></ClassInstance></TRTSpectrum>",
	            "DOCTYPE");
	expect_fail("billion laughs",
	            "<?xml version=\"1.0\"?>\n<!DOCTYPE TRTSpectrum [<!ENTITY a \"aaaaaaaaaa\">"
	            "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
	            "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
	            "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\"><!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">"
	            "<!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\"><!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]>\n"
	            "<TRTSpectrum>&i;</TRTSpectrum>",
	            "");
	expect_fail("undeclared entity", "<TRTSpectrum>&x;</TRTSpectrum>", "not well-formed XML");
}

/* libxml2 must not write to stderr: the library never prints. */
static void test_silent(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/stderr.txt", mg_test_tmpdir());
	fflush(stderr);
	int saved = dup(2);
	FILE *f = freopen(path, "w", stderr);
	if (!f || saved < 0)
		return;
	mg_spectrum *s;
	(void)read_text("<TRTSpectrum><oops></TRTSpectrum>", &s);
	(void)read_text("<?xml version=\"1.0\" encoding=\"NOPE-99\"?><TRTSpectrum/>", &s);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	FILE *r = fopen(path, "r");
	long size = -1;
	if (r) {
		fseek(r, 0, SEEK_END);
		size = ftell(r);
		fclose(r);
	}
	CHECK_MSG(size == 0, "libxml2 wrote %ld bytes to stderr", size);
	unlink(path);
}

int main(void)
{
	test_good();
	test_variants();
	test_malformed();
	test_silent();
	return mg_test_finish("test_spx");
}
