/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The magassay command line: shared helpers. Only cli/ writes to the terminal. */
#ifndef MAGASSAY_CLI_H
#define MAGASSAY_CLI_H

#include <jansson.h>
#include <stdio.h>

#include "magassay/spectrum.h"

/* Exit codes of every subcommand. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

typedef struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} cli_command;

/* "magassay: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a usage error for a subcommand and return CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last library error as a message: "<detail>". */
const char *cli_lib_error(void);

/* Write a JSON value and a newline to stdout (compact when not a terminal). */
int cli_json_print(json_t *value);
/* JSON helpers that map NAN to null. */
json_t *cli_json_real(double v);
json_t *cli_json_str(const char *s);

/* --db URL, shared by every command that opens the store: the option's
 * getopt value, its help line, and opening the store with it (the data
 * directory as given, the database as given by --db, else as the library
 * resolves it: $MAGASSAY_DB, magassay.conf, SQLite). */
#define CLI_OPT_DB 0x4442
#define CLI_DB_HELP                                                                                       \
	"  --db URL            the store's database: postgresql://... (default: $MAGASSAY_DB, else\n"        \
	"                      'database' in <data dir>/magassay.conf, else SQLite in the data directory)\n"
void cli_db_set(const char *url);
struct mg_store;
int cli_store_open_db(const char *data_dir, unsigned flags, struct mg_store **st);

/* Where the store is when the user does not say (cli/store_location.c,
 * docs/install.md): the data directory (NULL: the library's per-user
 * default) and database (NULL: the library decides) for --data-dir given_dir
 * and --db given_db (both may be NULL). MG_OK, or the configuration file's
 * error (mg_error_detail()). Also makes new files group-writable when the data
 * directory is a shared one (set-group-ID and group-writable). */
int cli_store_location(const char *given_dir, const char *given_db, const char **dir, const char **db);
struct mg_store_conf;
void cli_store_choose(const char *given_dir, const char *given_db, const struct mg_store_conf *conf,
                      const char *shared, const char **dir, const char **db);
int cli_shared_store_usable(const char *dir);
void cli_shared_umask(const char *dir);

/* The spectrum summary shared by `info` and others. */
json_t *cli_spectrum_json(const mg_spectrum *s);
void cli_spectrum_print(FILE *f, const mg_spectrum *s);

int cmd_info(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_acquire(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_qc(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_icp(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_reprocess(int argc, char **argv);

#endif
