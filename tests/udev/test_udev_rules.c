/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The udev rules: syntax (every line a comma-separated list of KEY op "value"
 * with known keys and operators), never world-writable, and the tagged
 * VID:PID pairs exactly those of the driver table (drivers/usbids.c). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/usbids.h"

static const char *keys[] = {"ACTION", "SUBSYSTEM", "SUBSYSTEMS", "ATTR", "ATTRS", "ENV", "TAG", "GROUP",
                             "MODE", "GOTO", "LABEL", "KERNEL", "DRIVERS", "SYMLINK", "OWNER"};

/* Parse one rule line; fill vid/pid when it tags a device. Returns 0 if the syntax is good. */
static int parse_rule(const char *line, int lineno, const char *file, char *vid, char *pid, int *tags,
                      char *subsystem)
{
	const char *p = line;
	*tags = 0;
	vid[0] = pid[0] = subsystem[0] = '\0';
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		char key[64] = "", attr[64] = "", op[3] = "", value[256] = "";
		size_t k = 0;
		while (isupper((unsigned char)*p) && k < sizeof(key) - 1)
			key[k++] = *p++;
		key[k] = '\0';
		int known = 0;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			known |= strcmp(key, keys[i]) == 0;
		if (!known) {
			fprintf(stderr, "%s:%d: unknown key '%s'\n", file, lineno, key);
			return -1;
		}
		if (*p == '{') {
			const char *e = strchr(p, '}');
			if (!e || (size_t)(e - p - 1) >= sizeof(attr))
				return -1;
			memcpy(attr, p + 1, (size_t)(e - p - 1));
			attr[e - p - 1] = '\0';
			p = e + 1;
		}
		if (strncmp(p, "==", 2) == 0 || strncmp(p, "!=", 2) == 0 || strncmp(p, "+=", 2) == 0 ||
		    strncmp(p, ":=", 2) == 0) {
			memcpy(op, p, 2);
			p += 2;
		} else if (*p == '=') {
			op[0] = '=';
			p++;
		} else {
			fprintf(stderr, "%s:%d: no operator after %s\n", file, lineno, key);
			return -1;
		}
		if (*p != '"')
			return -1;
		const char *e = strchr(p + 1, '"');
		if (!e || (size_t)(e - p - 1) >= sizeof(value))
			return -1;
		memcpy(value, p + 1, (size_t)(e - p - 1));
		value[e - p - 1] = '\0';
		p = e + 1;
		if (strcmp(key, "MODE") == 0 && strcmp(value, "0660") != 0) {
			fprintf(stderr, "%s:%d: MODE %s (only 0660 allowed)\n", file, lineno, value);
			return -1;
		}
		if ((strcmp(attr, "idVendor") == 0) && strcmp(op, "==") == 0)
			snprintf(vid, 8, "%.7s", value);
		if ((strcmp(attr, "idProduct") == 0) && strcmp(op, "==") == 0)
			snprintf(pid, 8, "%.7s", value);
		if (strcmp(key, "SUBSYSTEM") == 0 && strcmp(op, "==") == 0)
			snprintf(subsystem, 16, "%.15s", value);
		if (strcmp(key, "ENV") == 0 && strcmp(attr, "ID_MAGASSAY") == 0 && strcmp(op, "=") == 0)
			*tags = 1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n') {
			fprintf(stderr, "%s:%d: expected ',' at '%s'\n", file, lineno, p);
			return -1;
		}
	}
	return 0;
}

static void check_file(const char *name, int *ntagged, char tagged[][32])
{
	char path[1024], line[1024];
	snprintf(path, sizeof(path), "%s/udev/%s", MG_SOURCE_DIR, name);
	FILE *f = fopen(path, "r");
	CHECK_MSG(f != NULL, "%s", path);
	if (!f)
		return;
	int lineno = 0, rules = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		char vid[8], pid[8], sub[16];
		int tags;
		CHECK_MSG(parse_rule(p, lineno, name, vid, pid, &tags, sub) == 0, "%s:%d: %s", name, lineno, p);
		CHECK_MSG(!strstr(p, "0666"), "%s:%d world-writable", name, lineno);
		if (tags && vid[0] && ntagged) {
			snprintf(tagged[*ntagged], 32, "%s:%s:%s", sub, vid, pid);
			(*ntagged)++;
		}
		rules++;
	}
	fclose(f);
	CHECK(rules > 0);
}

int main(void)
{
	char tagged[64][32];
	int ntagged = 0;
	check_file("60-magassay.rules", &ntagged, tagged);
	check_file("61-magassay-uaccess.rules", NULL, NULL);
	check_file("61-magassay-plugdev.rules", NULL, NULL);

	size_t n, ntag = 0;
	const mg_usb_id *ids = mg_usb_ids(&n);
	for (size_t i = 0; i < n; i++) {
		char want[32];
		snprintf(want, sizeof(want), "%s:%04x:%04x", ids[i].subsystem, ids[i].vid, ids[i].pid);
		int found = 0;
		for (int j = 0; j < ntagged; j++)
			found |= strcmp(tagged[j], want) == 0;
		if (ids[i].untagged) {
			CHECK_MSG(!found, "%s (%s) is marked untagged in drivers/usbids.c but tagged in the rules",
			          want, ids[i].description);
			continue;
		}
		ntag++;
		CHECK_MSG(found, "%s (%s) is in drivers/usbids.c but not tagged in 60-magassay.rules", want,
		          ids[i].description);
		if (i > 0)
			CHECK_MSG(((uint32_t)ids[i - 1].vid << 16 | ids[i - 1].pid) < ((uint32_t)ids[i].vid << 16 | ids[i].pid),
			          "drivers/usbids.c is not sorted at %zu", i);
	}
	CHECK_MSG((size_t)ntagged == ntag, "rules tag %d devices, the driver table has %zu to tag", ntagged, ntag);
	return mg_test_finish("test_udev_rules");
}
