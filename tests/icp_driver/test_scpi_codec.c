/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The SCPI codec (drivers/scpi/codec.c): framing over byte streams
 * (terminators, blocks holding LF, strings, CR LF, incomplete input),
 * response elements, definite and indefinite blocks, numbers (NR1/2/3,
 * #H/#Q/#B, specials), booleans, strings, *IDN? and SYSTem:ERRor? answers,
 * block payloads, query counting, and the encoders (round trips). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "drivers/scpi/scpi.h"
#include "magassay/error.h"

static void frame_ok(const char *in, size_t n, size_t want_msg, size_t want_used)
{
	size_t m = 99, u = 99;
	int rc = mg_scpi_frame((const uint8_t *)in, n, &m, &u);
	CHECK_MSG(rc == MG_OK && m == want_msg && u == want_used, "frame '%.*s': rc %d msg %zu used %zu", (int)n, in, rc,
	          m, u);
}

static void frame_more(const char *in, size_t n)
{
	size_t m, u;
	int rc = mg_scpi_frame((const uint8_t *)in, n, &m, &u);
	CHECK_MSG(rc == MG_ERR_NEED_MORE, "frame '%.*s': rc %d, wanted NEED_MORE", (int)n, in, rc);
}

static void test_frame(void)
{
	frame_ok("1\n", 2, 1, 2);
	frame_ok("\n", 1, 0, 1);
	frame_ok("+1.5E+03\r\n", 10, 8, 10);
	frame_ok("1;2\nrest", 8, 3, 4);
	frame_more("", 0);
	frame_more("123", 3);
	frame_more("abc\r", 4);
	/* a block holding LF and quotes: length-driven */
	const char blk[] = "#15a\n\"b\n\n";
	frame_ok(blk, sizeof(blk) - 1, 8, 9);
	frame_more(blk, 7);    /* data not complete */
	frame_more("#", 1);
	frame_more("#1", 2);
	frame_more("#25", 3);  /* length digits not complete */
	/* after a separator a block may start again */
	const char two[] = "1,#13\n\n\n,#0ab\n";
	frame_ok(two, sizeof(two) - 1, 13, 14);
	/* a block later in the message, after blanks */
	const char sp[] = "2, #2031234567890123456789\nX\n";
	frame_ok(sp, sizeof(sp) - 1, 26, 27);
	/* indefinite: up to the next LF */
	frame_ok("#0abc\n", 6, 5, 6);
	/* strings: a LF inside ends the message anyway; doubled quotes stay inside */
	frame_ok("\"a\"\"b\"\n", 7, 6, 7);
	frame_ok("\"a\nb\"\n", 6, 2, 3);
	frame_more("\"abc\"", 5);
	frame_ok("'x;y'\n", 6, 5, 6);
	/* '#' not at an element start, and #H numbers, are text */
	frame_ok("a#1\n", 4, 3, 4);
	frame_ok("#HFF\n", 5, 4, 5);
	/* bad block header */
	size_t m, u;
	CHECK_RC(mg_scpi_frame((const uint8_t *)"#2x1abc\n", 8, &m, &u), MG_ERR_PROTOCOL);
	CHECK(strstr(mg_error_detail(), "byte 0") != NULL);
}

static void test_elements(void)
{
	const char msg[] = "1.5, \"a,b\"\"c\" ;#13xyz,'q', WORD";
	mg_scpi_element el[8];
	size_t n;
	CHECK_RC(mg_scpi_split(msg, sizeof(msg) - 1, el, 8, &n), MG_OK);
	CHECK(n == 5);
	if (n == 5) {
		CHECK(el[0].type == MG_SCPI_TEXT && el[0].n == 3 && !memcmp(el[0].p, "1.5", 3) && el[0].unit == 0);
		CHECK(el[1].type == MG_SCPI_STRING && el[1].n == 8 && el[1].unit == 0);
		CHECK(el[2].type == MG_SCPI_BLOCK && el[2].n == 3 && !memcmp(el[2].p, "xyz", 3) && el[2].unit == 1);
		CHECK(el[3].type == MG_SCPI_STRING && el[3].unit == 1);
		CHECK(el[4].type == MG_SCPI_TEXT && el[4].n == 4 && el[4].offset == (size_t)(strstr(msg, "WORD") - msg));
		mg_buf b;
		mg_buf_init(&b);
		CHECK_RC(mg_scpi_unquote(el[1].p, el[1].n, &b), MG_OK);
		CHECK(b.data && !strcmp(b.data, "a,b\"c"));
		mg_buf_free(&b);
	}
	CHECK_RC(mg_scpi_split("", 0, el, 8, &n), MG_OK);
	CHECK(n == 0);
	CHECK_RC(mg_scpi_split("1,,2", 4, el, 8, &n), MG_ERR_FORMAT);
	CHECK(strstr(mg_error_detail(), "byte 2") != NULL);
	CHECK_RC(mg_scpi_split("1,2,", 4, el, 8, &n), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_split("\"abc", 4, el, 8, &n), MG_ERR_FORMAT);
	CHECK(strstr(mg_error_detail(), "unterminated") != NULL);
	CHECK_RC(mg_scpi_split("\"a\"x", 4, el, 8, &n), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_split("#15ab", 5, el, 8, &n), MG_ERR_FORMAT);
	CHECK(strstr(mg_error_detail(), "announces 5 bytes, 2 follow") != NULL);
	CHECK_RC(mg_scpi_split("#3", 2, el, 8, &n), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_split("ab\"c", 4, el, 8, &n), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_split("1,2,3", 5, el, 2, &n), MG_ERR_FORMAT);
	/* #0 takes the rest, even separators */
	CHECK_RC(mg_scpi_split("7,#0a,b;c", 9, el, 8, &n), MG_OK);
	CHECK(n == 2 && el[1].type == MG_SCPI_BLOCK && el[1].n == 5);
	/* an empty definite block */
	CHECK_RC(mg_scpi_split("#10", 3, el, 8, &n), MG_OK);
	CHECK(n == 1 && el[0].type == MG_SCPI_BLOCK && el[0].n == 0);
}

static void num_ok(const char *s, double want)
{
	double v = 12345;
	int rc = mg_scpi_parse_number(s, strlen(s), &v);
	CHECK_MSG(rc == MG_OK && (v == want || (isnan(want) && isnan(v))), "'%s' -> rc %d %g, wanted %g", s, rc, v, want);
}

static void num_bad(const char *s)
{
	double v;
	CHECK_MSG(mg_scpi_parse_number(s, strlen(s), &v) == MG_ERR_FORMAT, "'%s' accepted", s);
}

static void test_numbers(void)
{
	num_ok("1", 1);
	num_ok("+12", 12);
	num_ok(" -3 ", -3);
	num_ok("2.5", 2.5);
	num_ok(".5", 0.5);
	num_ok("5.", 5);
	num_ok("+1.23456E-03", 1.23456e-3);
	num_ok("1e3", 1000);
	num_ok("406.109", 406.109);
	num_ok("#HFF", 255);
	num_ok("#hff", 255);
	num_ok("#Q17", 15);
	num_ok("#B1011", 11);
	num_ok("9.9E37", INFINITY);
	num_ok("+9.9E+37", INFINITY);
	num_ok("-9.9E37", -INFINITY);
	num_ok("9.91E37", NAN);
	num_ok("9.91E+37", NAN);
	num_ok("NAN", NAN);
	num_ok("inf", INFINITY);
	num_ok("NINF", -INFINITY);
	num_bad("");
	num_bad(" ");
	num_bad("1.2.3");
	num_bad("1e");
	num_bad("e5");
	num_bad("+");
	num_bad(".");
	num_bad("0x10");
	num_bad("#H");
	num_bad("#HG");
	num_bad("#Q8");
	num_bad("#B2");
	num_bad("#X1");
	num_bad("12abc");
	num_bad("1 2");
	num_bad("#HFFFFFFFFFFFFFFFFF");
	long l;
	CHECK_RC(mg_scpi_parse_long("+0", 2, &l), MG_OK);
	CHECK(l == 0);
	CHECK_RC(mg_scpi_parse_long("-113", 4, &l), MG_OK);
	CHECK(l == -113);
	CHECK_RC(mg_scpi_parse_long("9007199254740993", 16, &l), MG_OK);
	CHECK(l == 9007199254740993L);
	CHECK_RC(mg_scpi_parse_long("+1.000000E+00", 13, &l), MG_OK);
	CHECK(l == 1);
	CHECK_RC(mg_scpi_parse_long("1.5", 3, &l), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_parse_long("99999999999999999999", 20, &l), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_parse_long("9.91E37", 7, &l), MG_ERR_FORMAT);
	int b;
	CHECK_RC(mg_scpi_parse_bool("1", 1, &b), MG_OK);
	CHECK(b == 1);
	CHECK_RC(mg_scpi_parse_bool("off", 3, &b), MG_OK);
	CHECK(b == 0);
	CHECK_RC(mg_scpi_parse_bool(" ON ", 4, &b), MG_OK);
	CHECK(b == 1);
	CHECK_RC(mg_scpi_parse_bool("2", 1, &b), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_parse_bool("yes", 3, &b), MG_ERR_FORMAT);
	double v[4];
	size_t n;
	CHECK_RC(mg_scpi_parse_numbers("1, 2.5,+3E1", 11, v, 4, &n), MG_OK);
	CHECK(n == 3 && v[2] == 30);
	CHECK_RC(mg_scpi_parse_numbers("1,\"2\"", 5, v, 4, &n), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_parse_numbers("1,x", 3, v, 4, &n), MG_ERR_FORMAT);
	CHECK(strstr(mg_error_detail(), "byte 2") != NULL);
	CHECK_RC(mg_scpi_parse_numbers("1,2,3,4,5", 9, v, 4, &n), MG_ERR_FORMAT);
}

static void test_strings(void)
{
	mg_buf b;
	mg_buf_init(&b);
	CHECK_RC(mg_scpi_unquote("\"\"", 2, &b), MG_OK);
	CHECK(b.len == 0 && b.data && !b.data[0]);
	mg_buf_reset(&b);
	CHECK_RC(mg_scpi_unquote("'it''s'", 7, &b), MG_OK);
	CHECK(!strcmp(b.data, "it's"));
	mg_buf_reset(&b);
	CHECK_RC(mg_scpi_unquote("\"a\"b\"", 5, &b), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_unquote("abc", 3, &b), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_unquote("\"abc'", 5, &b), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_unquote("\"", 1, &b), MG_ERR_FORMAT);
	/* round trip through the encoder */
	const char *samples[] = {"", "plain", "a \"quoted\" word", "\"\"\"", "semi;colon,comma"};
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		mg_buf q;
		mg_buf_init(&q);
		mg_scpi_append_string(&q, samples[i]);
		mg_buf_reset(&b);
		CHECK_RC(mg_scpi_unquote(q.data, q.len, &b), MG_OK);
		CHECK_MSG(b.data && !strcmp(b.data, samples[i]), "round trip of '%s' via %s", samples[i], q.data);
		mg_buf_free(&q);
	}
	mg_buf_free(&b);
}

static void test_errors_idn(void)
{
	mg_scpi_error e;
	CHECK_RC(mg_scpi_parse_error("-113,\"Undefined header\"", 23, &e), MG_OK);
	CHECK(e.code == -113 && !strcmp(e.text, "Undefined header"));
	CHECK_RC(mg_scpi_parse_error("+0,\"No error\"", 13, &e), MG_OK);
	CHECK(e.code == 0);
	const char *d = "-200,\"Execution error;Could not open file, really\"";
	CHECK_RC(mg_scpi_parse_error(d, strlen(d), &e), MG_OK);
	CHECK(e.code == -200 && !strcmp(e.text, "Execution error;Could not open file, really"));
	CHECK_RC(mg_scpi_parse_error("-222,Data out of range", 22, &e), MG_OK);
	CHECK(e.code == -222 && !strcmp(e.text, "Data out of range"));
	CHECK_RC(mg_scpi_parse_error("0", 1, &e), MG_OK);
	CHECK(e.code == 0 && !e.text[0]);
	CHECK_RC(mg_scpi_parse_error("x,\"y\"", 5, &e), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_parse_error("", 0, &e), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_parse_error("-1,\"unterminated", 16, &e), MG_ERR_FORMAT);
	CHECK(!strcmp(mg_scpi_error_class(-113), "command error"));
	CHECK(!strcmp(mg_scpi_error_class(-222), "execution error"));
	CHECK(!strcmp(mg_scpi_error_class(-350), "device-specific error"));
	CHECK(!strcmp(mg_scpi_error_class(-410), "query error"));
	CHECK(!strcmp(mg_scpi_error_class(-501), "power-on event"));
	CHECK(!strcmp(mg_scpi_error_class(7), "instrument-specific error"));
	CHECK(!strcmp(mg_scpi_error_class(0), "no error"));
	CHECK(!strcmp(mg_scpi_error_text(-113), "Undefined header"));
	CHECK(!strcmp(mg_scpi_error_text(-410), "Query INTERRUPTED"));
	CHECK(mg_scpi_error_text(-9999) == NULL);

	mg_scpi_idn idn;
	const char *s = "magassay,SIM-ICP-OES,ICP-0001,1.0.0";
	CHECK_RC(mg_scpi_parse_idn(s, strlen(s), &idn), MG_OK);
	CHECK(!strcmp(idn.manufacturer, "magassay") && !strcmp(idn.model, "SIM-ICP-OES") &&
	      !strcmp(idn.serial, "ICP-0001") && !strcmp(idn.firmware, "1.0.0"));
	s = "IDN GW, GDM8341 , V1.00";
	CHECK_RC(mg_scpi_parse_idn(s, strlen(s), &idn), MG_OK);
	CHECK(!strcmp(idn.manufacturer, "GW") && !strcmp(idn.model, "GDM8341") && !idn.serial[0] &&
	      !strcmp(idn.firmware, "V1.00"));
	s = "A,B,C,D,E";
	CHECK_RC(mg_scpi_parse_idn(s, strlen(s), &idn), MG_OK);
	CHECK(!strcmp(idn.firmware, "D,E"));
	CHECK_RC(mg_scpi_parse_idn("A,B", 3, &idn), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_parse_idn(",B,C,D", 6, &idn), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_parse_idn("A\x01,B,C,D", 8, &idn), MG_ERR_FORMAT);
	char longf[200];
	memset(longf, 'x', sizeof(longf));
	memcpy(longf + 100, ",m,s,f", 6);
	CHECK_RC(mg_scpi_parse_idn(longf, 106, &idn), MG_ERR_FORMAT);
}

static void test_blocks_numbers(void)
{
	size_t hl, dl;
	CHECK_RC(mg_scpi_parse_block_header((const uint8_t *)"#512320", 7, &hl, &dl), MG_OK);
	CHECK(hl == 7 && dl == 12320);
	CHECK_RC(mg_scpi_parse_block_header((const uint8_t *)"#9000001400", 11, &hl, &dl), MG_OK);
	CHECK(hl == 11 && dl == 1400);
	CHECK_RC(mg_scpi_parse_block_header((const uint8_t *)"#0abc", 5, &hl, &dl), MG_OK);
	CHECK(hl == 2 && dl == 3);
	CHECK_RC(mg_scpi_parse_block_header((const uint8_t *)"#51232", 6, &hl, &dl), MG_ERR_NEED_MORE);
	CHECK_RC(mg_scpi_parse_block_header((const uint8_t *)"#A", 2, &hl, &dl), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_parse_block_header((const uint8_t *)"X1", 2, &hl, &dl), MG_ERR_FORMAT);
	CHECK_RC(mg_scpi_parse_block_header((const uint8_t *)"#21x", 4, &hl, &dl), MG_ERR_FORMAT);

	const double v[5] = {406.109, -1.5, 0, 123456.75, 1e-300};
	for (int t = MG_SCPI_REAL32; t <= MG_SCPI_INT32; t++)
		for (int big = 0; big < 2; big++) {
			mg_buf b;
			mg_buf_init(&b);
			CHECK_RC(mg_scpi_append_numbers(&b, v, 5, (mg_scpi_numtype)t, big), MG_OK);
			CHECK(b.len == 5 * mg_scpi_numtype_size((mg_scpi_numtype)t));
			double out[5];
			size_t n;
			CHECK_RC(mg_scpi_decode_numbers((const uint8_t *)b.data, b.len, (mg_scpi_numtype)t, big, out, 5, &n),
			         MG_OK);
			CHECK(n == 5);
			for (size_t i = 0; i < 5 && n == 5; i++) {
				double want = t == MG_SCPI_REAL64 ? v[i]
				            : t == MG_SCPI_REAL32 ? (double)(float)v[i]
				            : t == MG_SCPI_INT16  ? fmax(-32768, fmin(32767, round(v[i])))
				                                  : round(v[i]);
				CHECK_MSG(out[i] == want, "type %d big %d value %zu: %g != %g", t, big, i, out[i], want);
			}
			CHECK_RC(mg_scpi_decode_numbers((const uint8_t *)b.data, b.len - 1, (mg_scpi_numtype)t, big, out, 5, &n),
			         MG_ERR_FORMAT);
			CHECK_RC(mg_scpi_decode_numbers((const uint8_t *)b.data, b.len, (mg_scpi_numtype)t, big, out, 4, &n),
			         MG_ERR_FORMAT);
			mg_buf_free(&b);
		}
	/* byte order: NORMal is big-endian */
	double one = 1.0, out;
	size_t n;
	mg_buf b;
	mg_buf_init(&b);
	mg_scpi_append_numbers(&b, &one, 1, MG_SCPI_REAL64, 1);
	CHECK((uint8_t)b.data[0] == 0x3f && (uint8_t)b.data[1] == 0xf0);
	mg_buf_reset(&b);
	mg_scpi_append_numbers(&b, &one, 1, MG_SCPI_REAL64, 0);
	CHECK((uint8_t)b.data[7] == 0x3f && (uint8_t)b.data[6] == 0xf0);
	/* the 9.91E37 NaN convention in binary data too */
	double nan_code = 9.91e37;
	mg_buf_reset(&b);
	mg_scpi_append_numbers(&b, &nan_code, 1, MG_SCPI_REAL32, 0);
	mg_scpi_decode_numbers((const uint8_t *)b.data, b.len, MG_SCPI_REAL32, 0, &out, 1, &n);
	CHECK(isnan(out));
	/* block encoder: header digits and framing round trip */
	const size_t sizes[] = {0, 9, 10, 999, 1000, 100000};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char data[100000];
		for (size_t k = 0; k < sizes[i]; k++)
			data[k] = (char)(k * 7 % 256);
		mg_buf_reset(&b);
		CHECK_RC(mg_scpi_append_block(&b, data, sizes[i]), MG_OK);
		mg_buf_append(&b, "\n", 1);
		size_t m, u;
		CHECK_RC(mg_scpi_frame((const uint8_t *)b.data, b.len, &m, &u), MG_OK);
		CHECK(u == b.len && m == b.len - 1);
		mg_scpi_element el;
		size_t pos = 0;
		CHECK(mg_scpi_next_element(b.data, m, &pos, NULL, &el) == 1);
		CHECK(el.type == MG_SCPI_BLOCK && el.n == sizes[i] && (!sizes[i] || !memcmp(el.p, data, sizes[i])));
	}
	mg_buf_free(&b);
}

static void test_queries(void)
{
	struct {
		const char *s;
		int n;
	} t[] = {
		{"*IDN?", 1},
		{"*RST", 0},
		{"", 0},
		{"FORM:DATA REAL,64;BORD SWAP", 0},
		{"*CLS;*OPC?", 1},
		{"MEAS:VOLT?;:FETC?", 2},
		{"SYST:ERR?", 1},
		{"SAMP:LAB \"what?\"", 0},
		{"SAMP:LAB 'a?;b?'; *OPC?", 1},
		{"DATA #13a?b;X?", 1},
		{"  FETC:WIND? 1,2", 1},
		{"CONF:LINE 1,\"Nd\",430.358", 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK_MSG(mg_scpi_count_queries(t[i].s, strlen(t[i].s)) == t[i].n, "'%s': %d queries", t[i].s,
		          mg_scpi_count_queries(t[i].s, strlen(t[i].s)));
}

int main(void)
{
	test_frame();
	test_elements();
	test_numbers();
	test_strings();
	test_errors_idn();
	test_blocks_numbers();
	test_queries();
	return mg_test_finish("test_scpi_codec");
}
