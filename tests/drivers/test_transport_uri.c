/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Transport URI parsing: every valid form and every way to get one wrong. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/transport.h"

static mg_transport_uri *parse_ok(const char *text)
{
	mg_transport_uri *u = NULL;
	int rc = mg_transport_uri_parse(text, &u);
	CHECK_MSG(rc == MG_OK && u, "'%s': %d %s", text, rc, mg_error_detail());
	if (u)
		CHECK(!strcmp(u->text, text));
	return u;
}

/* Must fail with MG_ERR_ARG and a detail that contains `needle`. */
static void parse_bad(const char *text, const char *needle)
{
	mg_transport_uri *u = (mg_transport_uri *)1;
	int rc = mg_transport_uri_parse(text, &u);
	CHECK_MSG(rc == MG_ERR_ARG, "'%s' gave %d", text ? text : "(null)", rc);
	CHECK_MSG(u == NULL, "'%s' left an output", text ? text : "(null)");
	CHECK_MSG(strstr(mg_error_detail(), needle) != NULL, "'%s': detail '%s' lacks '%s'",
	          text ? text : "(null)", mg_error_detail(), needle);
	if (rc == MG_OK)
		mg_transport_uri_free(u);
}

static void test_usb(void)
{
	mg_transport_uri *u = parse_ok("usb:10c4:842a");
	if (u) {
		CHECK(u->scheme == MG_SCHEME_USB && !u->usb_by_address);
		CHECK(u->vid == 0x10c4 && u->pid == 0x842a);
		CHECK(u->serial == NULL && u->nparams == 0);
		mg_transport_uri_free(u);
	}
	u = parse_ok("usb:10C4:842A?serial=12345");
	if (u) {
		CHECK(u->vid == 0x10c4 && u->pid == 0x842a);
		CHECK(u->serial && !strcmp(u->serial, "12345"));
		CHECK(!strcmp(mg_transport_uri_get(u, "serial"), "12345"));
		CHECK(mg_transport_uri_get(u, "baud") == NULL);
		mg_transport_uri_free(u);
	}
	u = parse_ok("usb:1:2");
	if (u) {
		CHECK(u->vid == 1 && u->pid == 2);
		mg_transport_uri_free(u);
	}
	u = parse_ok("usb:1.2");
	if (u) {
		CHECK(u->usb_by_address && u->bus == 1 && u->address == 2);
		mg_transport_uri_free(u);
	}
	u = parse_ok("usb:001.002");
	if (u) {
		CHECK(u->usb_by_address && u->bus == 1 && u->address == 2);
		mg_transport_uri_free(u);
	}
	u = parse_ok("usb:255.127");
	if (u) {
		CHECK(u->bus == 255 && u->address == 127);
		mg_transport_uri_free(u);
	}

	parse_bad("usb:", "bad USB device");
	parse_bad("usb:10c4", "bad USB device");
	parse_bad("usb:10c4:", "bad USB id");
	parse_bad("usb::842a", "bad USB id");
	parse_bad("usb:10c45:842a", "bad USB id");
	parse_bad("usb:10g4:842a", "bad USB id");
	parse_bad("usb:0x10c4:842a", "bad USB id");
	parse_bad("usb:10c4:842a:1", "bad USB id");
	parse_bad("usb:10c4.842a:1", "bad USB device");
	parse_bad("usb:1.", "bad USB address");
	parse_bad("usb:.2", "bad USB address");
	parse_bad("usb:1.2.3", "bad USB address");
	parse_bad("usb:0.2", "bad USB address");
	parse_bad("usb:1.0", "bad USB address");
	parse_bad("usb:256.1", "bad USB address");
	parse_bad("usb:1.128", "bad USB address");
	parse_bad("usb:1000.1", "bad USB address");
	parse_bad("usb:a.b", "bad USB address");
	parse_bad("usb:-1.2", "bad USB address");
	parse_bad("usb:10c4:842a?baud=9600", "unknown parameter 'baud' for usb:VID:PID");
	parse_bad("usb:10c4:842a?serial", "parameter 'serial' has no '=value'");
	parse_bad("usb:10c4:842a?serial=", "parameter 'serial' has an empty value");
	parse_bad("usb:10c4:842a?serial=1&serial=2", "parameter 'serial' given twice");
	parse_bad("usb:1.2?serial=1", "unknown parameter 'serial' for usb:BUS.ADDR");
}

static void test_serial(void)
{
	mg_transport_uri *u = parse_ok("serial:/dev/ttyUSB0");
	if (u) {
		CHECK(u->scheme == MG_SCHEME_SERIAL);
		CHECK(!strcmp(u->path, "/dev/ttyUSB0"));
		CHECK(u->baud == 115200);
		mg_transport_uri_free(u);
	}
	u = parse_ok("serial:/dev/ttyUSB0?baud=57600");
	if (u) {
		CHECK(u->baud == 57600);
		mg_transport_uri_free(u);
	}
	u = parse_ok("serial:/tmp/a path:with=odd chars?baud=50");
	if (u) {
		CHECK(!strcmp(u->path, "/tmp/a path:with=odd chars") && u->baud == 50);
		mg_transport_uri_free(u);
	}
	parse_bad("serial:", "no device path");
	parse_bad("serial:?baud=9600", "no device path");
	parse_bad("serial:ttyUSB0", "not absolute");
	parse_bad("serial:/dev/ttyUSB0?baud=fast", "bad baud rate 'fast'");
	parse_bad("serial:/dev/ttyUSB0?baud=-9600", "bad baud rate");
	parse_bad("serial:/dev/ttyUSB0?baud=+9600", "bad baud rate");
	parse_bad("serial:/dev/ttyUSB0?baud=9600.0", "bad baud rate");
	parse_bad("serial:/dev/ttyUSB0?baud=0", "bad baud rate");
	parse_bad("serial:/dev/ttyUSB0?baud=49", "bad baud rate");
	parse_bad("serial:/dev/ttyUSB0?baud=4000001", "bad baud rate");
	parse_bad("serial:/dev/ttyUSB0?baud=99999999999999999999999", "bad baud rate");
	parse_bad("serial:/dev/ttyUSB0?parity=even", "unknown parameter 'parity' for serial: (allowed: baud)");
	parse_bad("serial:/dev/ttyUSB0?", "empty parameter list");
	parse_bad("serial:/dev/ttyUSB0?baud=9600&", "empty parameter");
	parse_bad("serial:/dev/ttyUSB0?&baud=9600", "empty parameter");
	parse_bad("serial:/dev/ttyUSB0?Baud=9600", "bad parameter name 'Baud'");
	parse_bad("serial:/dev/ttyUSB0?=9600", "bad parameter name ''");
}

static void test_sim(void)
{
	mg_transport_uri *u = parse_ok("sim:dp5");
	if (u) {
		CHECK(u->scheme == MG_SCHEME_SIM && !strcmp(u->name, "dp5") && u->nparams == 0);
		mg_transport_uri_free(u);
	}
	u = parse_ok("sim:dp5?sample=ndfeb_n42&rate=2000&drop=3@10&noise=0.5e-3");
	if (u) {
		CHECK(!strcmp(u->name, "dp5"));
		CHECK(u->nparams == 4);
		if (u->nparams == 4) {
			CHECK(!strcmp(u->params[0].key, "sample") && !strcmp(u->params[0].value, "ndfeb_n42"));
			CHECK(!strcmp(u->params[3].key, "noise") && !strcmp(u->params[3].value, "0.5e-3"));
		}
		CHECK(!strcmp(mg_transport_uri_get(u, "rate"), "2000"));
		CHECK(!u->params[1].used);
		CHECK(!strcmp(mg_transport_uri_take(u, "rate"), "2000"));
		CHECK(u->params[1].used);
		CHECK(mg_transport_uri_take(u, "nope") == NULL);
		mg_transport_uri_free(u);
	}
	u = parse_ok("sim:icp-oes.v2_a");
	if (u) {
		CHECK(!strcmp(u->name, "icp-oes.v2_a"));
		mg_transport_uri_free(u);
	}
	/* values may hold '=' (only '&' separates parameters) */
	u = parse_ok("sim:x?expr=a=b");
	if (u) {
		CHECK(!strcmp(mg_transport_uri_get(u, "expr"), "a=b"));
		mg_transport_uri_free(u);
	}
	parse_bad("sim:", "no simulator name");
	parse_bad("sim:?a=1", "no simulator name");
	parse_bad("sim:dp 5", "bad simulator name");
	parse_bad("sim:dp5/x", "bad simulator name");
	parse_bad("sim:dp5?a=1&a=2", "parameter 'a' given twice");
	parse_bad("sim:dp5?a", "parameter 'a' has no '=value'");
	parse_bad("sim:dp5?a=", "parameter 'a' has an empty value");
	parse_bad("sim:dp5?a=1&&b=2", "empty parameter");
}

static void test_schemes(void)
{
	parse_bad(NULL, "empty transport URI");
	parse_bad("", "empty transport URI");
	parse_bad("/dev/ttyUSB0", "no scheme");
	parse_bad(":foo", "no scheme");
	parse_bad("tcp:192.168.0.10:10001", "unknown scheme 'tcp'");
	parse_bad("USB:10c4:842a", "unknown scheme 'USB'");
	parse_bad("usbx:1.2", "unknown scheme 'usbx'");
	parse_bad("seria:/dev/ttyS0", "unknown scheme 'seria'");
	CHECK_RC(mg_transport_uri_parse("usb:1.2", NULL), MG_ERR_ARG);

	/* open() reports the same parse errors without touching devices */
	mg_transport *t = (mg_transport *)1;
	CHECK_RC(mg_transport_open("tcp:x", &t), MG_ERR_ARG);
	CHECK(t == NULL);
	CHECK(strstr(mg_error_detail(), "unknown scheme 'tcp'") != NULL);
	CHECK_RC(mg_transport_open("sim:nosuchsim", &t), MG_ERR_NOT_FOUND);
	CHECK(strstr(mg_error_detail(), "no simulator 'nosuchsim'") != NULL);
	mg_transport_uri_free(NULL);
	mg_transport_close(NULL);
	CHECK(!strcmp(mg_transport_kind_name(MG_TRANSPORT_LOOPBACK), "loopback"));
	CHECK(!strcmp(mg_transport_kind_name(MG_TRANSPORT_SERIAL), "serial"));
	CHECK(!strcmp(mg_transport_kind_name(MG_TRANSPORT_USB), "usb"));
}

int main(void)
{
	test_usb();
	test_serial();
	test_sim();
	test_schemes();
	return mg_test_finish("test_transport_uri");
}
