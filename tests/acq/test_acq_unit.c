/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the acquisition loop's parts: instrument profiles (INI and
 * --set overrides, strict errors with line numbers), presets, progress and
 * time left, the reconnect URI and the resume rule, names. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acq/acq_internal.h"
#include "check.h"
#include "magassay/acq.h"
#include "magassay/error.h"

static void parse_fails_n(const char *text, size_t len, const char *want)
{
	mg_acq_profile p;
	CHECK_RC(mg_acq_profile_init(&p), MG_OK);
	int rc = mg_acq_profile_parse(&p, text, len, "t.ini");
	CHECK_MSG(rc == MG_ERR_FORMAT, "'%s' parsed (rc %d)", text, rc);
	CHECK_MSG(strstr(mg_error_detail(), want) != NULL, "for '%s': detail '%s' lacks '%s'", text, mg_error_detail(),
	          want);
	/* all or nothing: the profile is the built-in one still */
	CHECK(!strcmp(p.source, "built-in") && p.poll_ms == MG_ACQ_DEFAULT_POLL_MS && p.dp5.count == 4);
	mg_acq_profile_clear(&p);
}

static void parse_fails(const char *text, const char *want)
{
	parse_fails_n(text, strlen(text), want);
}

static void test_builtin(void)
{
	mg_acq_profile p;
	char *text = NULL;
	CHECK_RC(mg_acq_profile_init(&p), MG_OK);
	CHECK(p.poll_ms == 250 && p.checkpoint_s == 10 && p.timeout_ms == 0);
	CHECK(p.reconnect_attempts == 15 && p.reconnect_wait_ms == 2000);
	CHECK(isnan(p.tube_kv) && !p.anode && !p.detector);
	CHECK_RC(mg_acq_profile_config_text(&p, &text), MG_OK);
	CHECK_MSG(text && !strcmp(text, "MCAC=2048;PRET=60.0;PRER=OFF;PREC=OFF;"), "'%s'", text ? text : "");
	free(text);
	mg_acq_presets pr = mg_acq_presets_from_config(&p.dp5);
	CHECK(pr.live_s == 60 && isnan(pr.real_s) && isnan(pr.counts) && mg_acq_presets_any(&pr));
	mg_acq_profile_clear(&p);
}

static void test_parse(void)
{
	mg_acq_profile p;
	char *text = NULL;
	CHECK_RC(mg_acq_profile_init(&p), MG_OK);
	const char *ini = "\xEF\xBB\xBF# X-123SDD, station 2\r\n"
	                  "; another comment\n"
	                  "[dp5]\n"
	                  "  tpea = 2.4   # peaking time, us\n"
	                  "GAIN=20\n"
	                  "RESC = Y\n"
	                  "PRET = OFF\n"
	                  "PREC = 1000000\n"
	                  "[ acquisition ]\n"
	                  "poll_ms = 100\n"
	                  "checkpoint_s = 30.5\n"
	                  "channels = 4096\n"
	                  "timeout_ms = 1500\n"
	                  "reconnect_attempts = 4\n"
	                  "reconnect_wait_ms = 500\n"
	                  "[tube]\n"
	                  "anode = Rh\n"
	                  "kv = 40\n"
	                  "ua = 25.5\n"
	                  "filter = Al:100\n"
	                  "atmosphere = helium\n"
	                  "[instrument]\n"
	                  "detector = SDD 25 mm2, 500 um Si\n";
	CHECK_RC(mg_acq_profile_parse(&p, ini, strlen(ini), "station2.ini"), MG_OK);
	CHECK(!strcmp(p.source, "station2.ini"));
	CHECK(p.poll_ms == 100 && p.checkpoint_s == 30.5 && p.timeout_ms == 1500);
	CHECK(p.reconnect_attempts == 4 && p.reconnect_wait_ms == 500);
	CHECK(!strcmp(p.anode, "Rh") && p.tube_kv == 40 && p.tube_ua == 25.5 && !strcmp(p.filter, "Al:100"));
	CHECK(!strcmp(p.atmosphere, "helium") && !strcmp(p.detector, "SDD 25 mm2, 500 um Si"));
	CHECK_RC(mg_acq_profile_config_text(&p, &text), MG_OK);
	/* RESC first; built-in entries replaced in place; new ones appended in file order */
	CHECK_MSG(text && !strcmp(text, "RESC=Y;MCAC=4096;PRET=OFF;PRER=OFF;PREC=1000000;TPEA=2.4;GAIN=20;"), "'%s'",
	          text ? text : "");
	free(text);
	mg_acq_presets pr = mg_acq_presets_from_config(&p.dp5);
	CHECK(isnan(pr.live_s) && isnan(pr.real_s) && pr.counts == 1e6);

	/* overrides */
	CHECK_RC(mg_acq_profile_set(&p, "TPEA=4.8"), MG_OK);
	CHECK(!strcmp(mg_kvlist_get(&p.dp5, "TPEA"), "4.8"));
	CHECK_RC(mg_acq_profile_set(&p, "thsl=1.2"), MG_OK);
	CHECK(!strcmp(mg_kvlist_get(&p.dp5, "THSL"), "1.2"));
	CHECK_RC(mg_acq_profile_set(&p, "acquisition.poll_ms=5"), MG_OK);
	CHECK(p.poll_ms == 5);
	CHECK_RC(mg_acq_profile_set(&p, "acquisition.channels=512"), MG_OK);
	CHECK(!strcmp(mg_kvlist_get(&p.dp5, "MCAC"), "512"));
	CHECK_RC(mg_acq_profile_set(&p, "dp5.MCAC=1024"), MG_OK);
	CHECK(!strcmp(mg_kvlist_get(&p.dp5, "MCAC"), "1024"));
	CHECK_RC(mg_acq_profile_set(&p, "tube.kv=30"), MG_OK);
	CHECK(p.tube_kv == 30);
	CHECK_RC(mg_acq_profile_set(&p, "MCAE=ON"), MG_ERR_ARG);
	CHECK(strstr(mg_error_detail(), "MCAE") && strstr(mg_error_detail(), "--set"));
	CHECK_RC(mg_acq_profile_set(&p, "XXXX=1"), MG_ERR_ARG);
	CHECK(strstr(mg_error_detail(), "unknown DP5 mnemonic 'XXXX'") != NULL);
	CHECK_RC(mg_acq_profile_set(&p, "TPEA"), MG_ERR_ARG);
	CHECK_RC(mg_acq_profile_set(&p, "TPEA="), MG_ERR_ARG);
	CHECK_RC(mg_acq_profile_set(&p, "TPEA=1 2"), MG_ERR_ARG);
	CHECK_RC(mg_acq_profile_set(&p, "TPEA=1;GAIN=2"), MG_ERR_ARG);
	CHECK_RC(mg_acq_profile_set(&p, "acquisition.poll_ms=0"), MG_ERR_ARG);
	CHECK_RC(mg_acq_profile_set(&p, "acquisition.bogus=1"), MG_ERR_ARG);
	CHECK(strstr(mg_error_detail(), "poll_ms") != NULL); /* lists the known keys */
	CHECK_RC(mg_acq_profile_set(&p, "nosuch.key=1"), MG_ERR_ARG);
	CHECK_RC(mg_acq_profile_set(&p, "MCAC=1000"), MG_ERR_ARG);
	CHECK_RC(mg_acq_profile_set(&p, "tube.anode=rh"), MG_ERR_ARG);
	CHECK_RC(mg_acq_profile_set(&p, "tube.atmosphere=argon"), MG_ERR_ARG);
	CHECK(p.poll_ms == 5 && !strcmp(mg_kvlist_get(&p.dp5, "MCAC"), "1024")); /* unchanged by the failures */
	mg_acq_profile_clear(&p);

	/* strict: every error names the file and the line */
	parse_fails("[dp5]\nMCAE = ON\n", "t.ini line 2");
	parse_fails("[dp5]\nMCAE = ON\n", "MCAE cannot be set");
	parse_fails("[dp5]\nTPEA = 1\nTPEA = 2\n", "t.ini line 3: TPEA is given twice (first on line 2)");
	parse_fails("[dp5]\ntpea = 1\n[dp5]\nTPEA = 2\n", "given twice");
	parse_fails("MCAC = 2048\n", "t.ini line 1: 'MCAC' before any [section]");
	parse_fails("[dp6]\n", "unknown section [dp6]");
	parse_fails("[dp5\n", "t.ini line 1: a section header needs a closing ']'");
	parse_fails("[dp5] extra\n", "t.ini line 1");
	parse_fails("[dp5]\nGAIN\n", "t.ini line 2: expected '[section]' or 'key = value'");
	parse_fails("[dp5]\nGAIN =\n", "GAIN has no value");
	parse_fails("[dp5]\nGAI N = 2\n", "only letters");
	parse_fails("[dp5]\nGAINS = 2\n", "not a DP5 mnemonic");
	parse_fails("[dp5]\nZZZZ = 2\n", "unknown DP5 mnemonic 'ZZZZ'");
	parse_fails("[dp5]\nTPEA = 1 2\n", "not a valid DP5 value");
	parse_fails("[dp5]\nMCAC = 300\n", "channels must be");
	parse_fails("[acquisition]\npoll_ms = fast\n", "t.ini line 2: [acquisition] poll_ms = 'fast' is not a whole number");
	parse_fails("[acquisition]\ncheckpoint_s = -1\n", "checkpoint_s");
	parse_fails("[acquisition]\nchannels = 3000\n", "channels = 3000");
	parse_fails("[acquisition]\nspeed = 3\n", "unknown key 'speed' in [acquisition]");
	parse_fails("[dp5]\nMCAC = 1024\n[acquisition]\nchannels = 2048\n", "t.ini line 4: channels = 2048 disagrees");
	parse_fails("[tube]\nkv = 0\n", "[tube]");
	parse_fails("[tube]\nanode = rhodium\n", "element symbol");
	parse_fails("[instrument]\nserial = 1\n", "unknown key 'serial' in [instrument]");
	parse_fails("[instrument]\ndetector = a\x01" "b\n", "control character");
	parse_fails_n("[dp5]\nGAIN = 2\0\n", 15, "NUL byte");
	/* agreeing duplicates of the same setting are fine */
	CHECK_RC(mg_acq_profile_init(&p), MG_OK);
	const char *ok = "[dp5]\nMCAC = 1024\n[acquisition]\nchannels = 1024\n";
	CHECK_RC(mg_acq_profile_parse(&p, ok, strlen(ok), NULL), MG_OK);
	CHECK_RC(mg_acq_profile_load(&p, "/nonexistent/profile.ini"), MG_ERR_NOT_FOUND);
	CHECK(strstr(mg_error_detail(), "/nonexistent/profile.ini") != NULL);
	mg_acq_profile_clear(&p);
	mg_acq_profile_clear(&p); /* twice is fine */
}

static void test_presets(void)
{
	mg_acq_profile p;
	CHECK_RC(mg_acq_profile_init(&p), MG_OK);
	mg_acq_presets pr = {12.3, NAN, NAN};
	CHECK_RC(mg_acq_presets_apply(&pr, &p), MG_OK);
	CHECK(!strcmp(mg_kvlist_get(&p.dp5, "PRET"), "12.3") && !strcmp(mg_kvlist_get(&p.dp5, "PRER"), "OFF") &&
	      !strcmp(mg_kvlist_get(&p.dp5, "PREC"), "OFF"));
	pr = (mg_acq_presets){NAN, 600, NAN};
	CHECK_RC(mg_acq_presets_apply(&pr, &p), MG_OK);
	CHECK(!strcmp(mg_kvlist_get(&p.dp5, "PRET"), "OFF") && !strcmp(mg_kvlist_get(&p.dp5, "PRER"), "600.0"));
	pr = (mg_acq_presets){NAN, NAN, 250000};
	CHECK_RC(mg_acq_presets_apply(&pr, &p), MG_OK);
	CHECK(!strcmp(mg_kvlist_get(&p.dp5, "PREC"), "250000") && !strcmp(mg_kvlist_get(&p.dp5, "PRER"), "OFF"));
	mg_acq_presets back = mg_acq_presets_from_config(&p.dp5);
	CHECK(isnan(back.live_s) && isnan(back.real_s) && back.counts == 250000);
	pr = mg_acq_presets_none();
	CHECK(!mg_acq_presets_any(&pr));
	CHECK_RC(mg_acq_presets_apply(&pr, &p), MG_OK);
	CHECK(!strcmp(mg_kvlist_get(&p.dp5, "PREC"), "OFF"));
	/* refused */
	pr = (mg_acq_presets){0.05, NAN, NAN};
	CHECK_RC(mg_acq_presets_apply(&pr, &p), MG_ERR_ARG);
	CHECK(strstr(mg_error_detail(), "0.1 s") != NULL);
	pr = (mg_acq_presets){10.25, NAN, NAN};
	CHECK_RC(mg_acq_presets_apply(&pr, &p), MG_ERR_ARG);
	pr = (mg_acq_presets){-1, NAN, NAN};
	CHECK_RC(mg_acq_presets_apply(&pr, &p), MG_ERR_ARG);
	pr = (mg_acq_presets){NAN, 1e9, NAN};
	CHECK_RC(mg_acq_presets_apply(&pr, &p), MG_ERR_ARG);
	pr = (mg_acq_presets){NAN, NAN, 10.5};
	CHECK_RC(mg_acq_presets_apply(&pr, &p), MG_ERR_ARG);
	pr = (mg_acq_presets){NAN, NAN, 0};
	CHECK_RC(mg_acq_presets_apply(&pr, &p), MG_ERR_ARG);
	CHECK(!strcmp(mg_kvlist_get(&p.dp5, "PREC"), "OFF")); /* unchanged */
	/* readback forms */
	mg_kvlist kv = {0};
	mg_kvlist_add(&kv, "PRET", "0", NULL);
	mg_kvlist_add(&kv, "PRER", "off", NULL);
	mg_kvlist_add(&kv, "PREC", "100", NULL);
	back = mg_acq_presets_from_config(&kv);
	CHECK(isnan(back.live_s) && isnan(back.real_s) && back.counts == 100);
	mg_kvlist_clear(&kv);
	mg_acq_profile_clear(&p);
}

static void test_progress(void)
{
	mg_acq_progress pg;
	mg_xrf_status st;
	memset(&st, 0, sizeof(st));
	mg_acq_presets p = {60, NAN, NAN};
	mg_acq_progress_compute(&p, NULL, 1, &pg);
	CHECK(!strcmp(pg.quantity, "none") && isnan(pg.fraction));
	/* live time: 20 s of 60 at 80 % live: 50 s of real time left */
	st.real_s = 25;
	st.accumulation_s = 20;
	st.slow_count = 200000;
	st.acquiring = true;
	mg_acq_progress_compute(&p, &st, 1, &pg);
	CHECK(!strcmp(pg.quantity, "live_time") && pg.value == 20 && pg.target == 60);
	CHECK_NEAR(pg.fraction, 1.0 / 3, 1e-12);
	CHECK_NEAR(pg.time_left_s, 50, 1e-9);
	/* a simulator running 100x faster: wall time left scales */
	mg_acq_progress_compute(&p, &st, 0.01, &pg);
	CHECK_NEAR(pg.time_left_s, 0.5, 1e-9);
	/* several presets: the first to be reached leads */
	p = (mg_acq_presets){60, 30, 1e6};
	mg_acq_progress_compute(&p, &st, 1, &pg);
	CHECK(!strcmp(pg.quantity, "real_time") && pg.value == 25);
	CHECK_NEAR(pg.time_left_s, 5, 1e-9);
	p = (mg_acq_presets){NAN, NAN, 250000};
	mg_acq_progress_compute(&p, &st, 1, &pg);
	CHECK(!strcmp(pg.quantity, "counts"));
	CHECK_NEAR(pg.time_left_s, 6.25, 1e-9); /* 50000 counts at 8000 counts per real second */
	CHECK_NEAR(pg.fraction, 0.8, 1e-12);
	/* no time yet: the fraction, no estimate */
	st.real_s = st.accumulation_s = 0;
	st.slow_count = 0;
	mg_acq_progress_compute(&p, &st, 1, &pg);
	CHECK(isnan(pg.time_left_s) && pg.fraction == 0);
	/* reached */
	p = (mg_acq_presets){60, NAN, NAN};
	st.real_s = 70;
	st.accumulation_s = 60;
	st.acquiring = false;
	st.preset_reached = st.preset_time_reached = true;
	mg_acq_progress_compute(&p, &st, 1, &pg);
	CHECK(pg.fraction == 1 && pg.time_left_s == 0);
	/* no preset */
	p = mg_acq_presets_none();
	mg_acq_progress_compute(&p, &st, 1, &pg);
	CHECK(!strcmp(pg.quantity, "none") && pg.value == 70 && isnan(pg.time_left_s));
}

static void test_reconnect(void)
{
	mg_device_info info;
	memset(&info, 0, sizeof(info));
	info.serial = "1001";
	char *u = NULL;
	CHECK_RC(acq_reconnect_uri("usb:10c4:842a", &info, &u), MG_OK);
	CHECK_MSG(u && !strcmp(u, "usb:10c4:842a?serial=1001"), "'%s'", u ? u : "");
	free(u);
	CHECK_RC(acq_reconnect_uri("usb:10c4:842a?serial=77", &info, &u), MG_OK);
	CHECK(u && !strcmp(u, "usb:10c4:842a?serial=77"));
	free(u);
	CHECK_RC(acq_reconnect_uri("serial:/dev/ttyUSB0?baud=57600", &info, &u), MG_OK);
	CHECK(u && !strcmp(u, "serial:/dev/ttyUSB0?baud=57600"));
	free(u);
	CHECK_RC(acq_reconnect_uri("sim:xrf?speed=10&sample=fe", &info, &u), MG_OK);
	CHECK(u && !strcmp(u, "sim:xrf?speed=10&sample=fe"));
	free(u);
	info.serial = "";
	CHECK_RC(acq_reconnect_uri("usb:10c4:842a", &info, &u), MG_OK);
	CHECK(u && !strcmp(u, "usb:10c4:842a")); /* no serial known: as given */
	free(u);

	CHECK(acq_link_error(MG_ERR_DISCONNECTED) && acq_link_error(MG_ERR_TIMEOUT) && acq_link_error(MG_ERR_CHECKSUM));
	CHECK(!acq_link_error(MG_ERR_DEVICE) && !acq_link_error(MG_ERR_NOMEM));

	mg_xrf_status a, b;
	memset(&a, 0, sizeof(a));
	a.accumulation_s = 12.3;
	a.real_s = 14;
	a.slow_count = 1000;
	a.fast_count = 1200;
	b = a;
	CHECK(acq_can_resume(&a, &b));
	b.accumulation_s = 13;
	b.real_s = 15;
	b.slow_count = 1100;
	b.fast_count = 1300;
	CHECK(acq_can_resume(&a, &b));
	b.accumulation_s = 0.5; /* reset */
	CHECK(!acq_can_resume(&a, &b));
	b.accumulation_s = 13;
	b.slow_count = 10;
	CHECK(!acq_can_resume(&a, &b));
}

static void test_names(void)
{
	CHECK(!strcmp(mg_acq_event_name(MG_ACQ_EV_STARTED), "started"));
	CHECK(!strcmp(mg_acq_event_name(MG_ACQ_EV_PROGRESS), "progress"));
	CHECK(!strcmp(mg_acq_event_name(MG_ACQ_EV_CHECKPOINT), "checkpoint"));
	CHECK(!strcmp(mg_acq_event_name(MG_ACQ_EV_SAVED), "saved"));
	CHECK(!strcmp(mg_acq_event_name(MG_ACQ_EV_ERROR), "error"));
	CHECK(!strcmp(mg_acq_event_name(MG_ACQ_EV_RESUMED), "resumed"));
	CHECK(!strcmp(mg_acq_recover_action_name(MG_ACQ_RECOVER_REGISTERED), "registered"));
	CHECK(!strcmp(mg_acq_recover_action_name(MG_ACQ_RECOVER_FAILED), "failed"));
	char t[ACQ_TIME_SIZE];
	acq_utc_format(0, 999999999, t);
	CHECK_MSG(!strcmp(t, "1970-01-01T00:00:00.999Z"), "'%s'", t);
	acq_utc_now(t);
	CHECK(strlen(t) == 24 && t[23] == 'Z' && t[10] == 'T');
	volatile sig_atomic_t stop = 1;
	CHECK(acq_sleep_ms(100000, &stop) == 1); /* returns at once when a stop is pending */
	stop = 0;
	CHECK(acq_sleep_ms(1, &stop) == 0);
}

int main(void)
{
	test_builtin();
	test_parse();
	test_presets();
	test_progress();
	test_reconnect();
	test_names();
	return mg_test_finish("test_acq_unit");
}
