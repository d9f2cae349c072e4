/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay sim xrf|icp [options]: serve a simulated instrument on a pseudo-terminal. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "magassay/buf.h"
#include "magassay/device.h"
#include "magassay/error.h"
#include "magassay/icp_device.h"
#include "magassay/log.h"

#define WRITE_WAIT_MS 2000 /* a client that does not read: its answer is dropped after this */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void help(void)
{
	printf("Usage: magassay sim xrf [--sample NAME|COMPOSITION] [--kv KV] [--ua UA] [--anode EL]\n"
	       "                        [--serial N] [--model MODEL] [--seed N] [--speed X]\n"
	       "                        [--pty] [--link PATH]\n"
	       "Serve the simulated XRF instrument (an Amptek DP5-family pulse processor with an SDD and\n"
	       "an X-ray tube, speaking the DP5 protocol byte for byte) on a pseudo-terminal, until\n"
	       "SIGINT or SIGTERM. The first line on stdout is the URI to open, e.g. serial:/dev/pts/4:\n"
	       "'magassay devices serial:/dev/pts/4' asks it, any DP5 software can acquire from it.\n\n"
	       "  --sample S      library sample (ndfeb, ndfeb-dy, ndfeb-tb, ndfeb-nicuni, fe, cu, blank)\n"
	       "                  or a composition in wt%%, e.g. 'Nd:24,Pr:6,Fe:66,Dy:4' (default ndfeb)\n"
	       "  --kv KV         tube voltage, 5-50 kV (default 40)\n"
	       "  --ua UA         tube current, uA (default 20)\n"
	       "  --anode EL      tube anode element (default Rh)\n"
	       "  --serial N      the unit's serial number (default 31337)\n"
	       "  --model M       DP5, PX5, DP5G, MCA8000D, TB5, DP5-X or X-123 (default DP5)\n"
	       "  --seed N        random stream (default 1)\n"
	       "  --speed X       simulated seconds per real second (default 1)\n"
	       "  --pty           serve on a new pseudo-terminal (the default, and only, way)\n"
	       "  --link PATH     also make PATH a symlink to the pseudo-terminal (removed at exit)\n"
	       "  -h, --help      this help\n\n"
	       "With -v every request is logged on stderr. The same instrument is available in process\n"
	       "as sim:xrf?sample=...&kv=... (see docs/drivers.md).\n"
	       "The simulated ICP-OES: magassay sim icp [options] (magassay sim icp --help).\n"
	       "Exit status: 0 stopped by a signal, 1 failure, 2 usage error.\n");
}

/* Write all of buf to the non-blocking master, waiting at most WRITE_WAIT_MS. */
static int write_answer(int fd, const char *p, size_t n)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR && errno != EIO)
			return -1;
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= WRITE_WAIT_MS || stop_signal) {
			cli_error("sim: the client does not read: %zu answer bytes dropped", n);
			return 0;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		poll(&pfd, 1, 20);
	}
	return 0;
}

static int append_param(mg_buf *b, const char *key, const char *value)
{
	if (strchr(value, '&') || !*value)
		return -1;
	mg_buf_printf(b, "%s%s=%s", b->len ? "&" : "", key, value);
	return 0;
}

static int raw_mode(int fd)
{
	struct termios tio;
	if (tcgetattr(fd, &tio) != 0)
		return -1;
	cfmakeraw(&tio);
	cfsetispeed(&tio, B115200);
	cfsetospeed(&tio, B115200);
	return tcsetattr(fd, TCSANOW, &tio);
}

/* Serve `sim` through `feed` on a new pseudo-terminal until a signal. */
static int serve_pty(int (*feed)(void *, const uint8_t *, size_t, mg_buf *), void (*report)(void *), void *sim,
                     const char *what, const char *scheme, const char *params, const char *link_path)
{
	int rc = CLI_OK;
	int master = -1, slave = -1, linked = 0;
	char name[128];
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
	    ptsname_r(master, name, sizeof(name)) != 0) {
		cli_error("sim: cannot make a pseudo-terminal: %s", strerror(errno));
		rc = CLI_FAIL;
		goto out;
	}
	/* Our own slave descriptor keeps the pty up between clients (without it the
	 * master reports a hang-up whenever no client has it open). */
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0 || raw_mode(slave) != 0) {
		cli_error("sim: cannot set up %s: %s", name, strerror(errno));
		rc = CLI_FAIL;
		goto out;
	}
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	fcntl(master, F_SETFD, FD_CLOEXEC);
	fcntl(slave, F_SETFD, FD_CLOEXEC);
	if (link_path) {
		if (symlink(name, link_path) != 0) {
			cli_error("sim: cannot make the link %s -> %s: %s", link_path, name, strerror(errno));
			rc = CLI_FAIL;
			goto out;
		}
		linked = 1;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	printf("%s:%s\n", scheme, linked ? link_path : name);
	fflush(stdout);
	fprintf(stderr, "magassay sim: the simulated %s (%s) is on %s%s%s; SIGINT or SIGTERM stops it\n", what,
	        params && *params ? params : "defaults", name, linked ? ", linked from " : "", linked ? link_path : "");

	mg_buf out;
	mg_buf_init(&out);
	uint8_t buf[4096];
	while (!stop_signal) {
		struct pollfd pfd = {.fd = master, .events = POLLIN};
		int pr = poll(&pfd, 1, 200);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			cli_error("sim: poll: %s", strerror(errno));
			rc = CLI_FAIL;
			break;
		}
		if (pr == 0)
			continue;
		if (pfd.revents & POLLIN) {
			ssize_t r = read(master, buf, sizeof(buf));
			if (r > 0) {
				mg_buf_reset(&out);
				if (feed(sim, buf, (size_t)r, &out) != MG_OK)
					cli_error("sim: %s", cli_lib_error());
				if (out.len && write_answer(master, out.data, out.len) < 0) {
					cli_error("sim: write: %s", strerror(errno));
					rc = CLI_FAIL;
					break;
				}
				continue;
			}
			if (r < 0 && errno != EAGAIN && errno != EINTR && errno != EIO) {
				cli_error("sim: read: %s", strerror(errno));
				rc = CLI_FAIL;
				break;
			}
		}
		if (pfd.revents & (POLLHUP | POLLERR)) {
			struct timespec ts = {0, 20 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	mg_buf_free(&out);
	if (stop_signal && report)
		report(sim);
out:
	if (linked) {
		char target[sizeof(name)];
		ssize_t n = readlink(link_path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			if (!strcmp(target, name))
				unlink(link_path);
		}
	}
	if (slave >= 0)
		close(slave);
	if (master >= 0)
		close(master);
	return rc;
}

static int feed_dp5(void *sim, const uint8_t *in, size_t n, mg_buf *out)
{
	return mg_dp5sim_feed(sim, in, n, out);
}

static void report_dp5(void *sim)
{
	mg_dp5sim_stats st = mg_dp5sim_get_stats(sim);
	fprintf(stderr, "magassay sim: stopped (%u requests, %u spectra, %.1f s simulated)\n", st.requests, st.spectra,
	        st.sim_time_s);
}

static int feed_icp(void *sim, const uint8_t *in, size_t n, mg_buf *out)
{
	return mg_icpsim_feed(sim, in, n, out);
}

static void report_icp(void *sim)
{
	mg_icpsim_stats st = mg_icpsim_get_stats(sim);
	fprintf(stderr, "magassay sim: stopped (%u messages, %u run(s), %u instrument error(s), %.1f s simulated)\n",
	        st.messages, st.runs, st.errors, st.sim_time_s);
}

static void help_icp(void)
{
	printf("Usage: magassay sim icp [--rack PATH] [--seed N] [--serial S] [--plasma on|off] [--drift X]\n"
	       "                        [--noise X] [--pixels N] [--busy-polls N] [--error-at N[:CODE]]\n"
	       "                        [--drift-jump PCT@N] [--print-rack] [--pty] [--link PATH]\n"
	       "Serve the simulated ICP-OES (an echelle ICP-OES with an autosampler rack of calibration\n"
	       "standards, checks and NdFeB digests, speaking SCPI as the built-in instrument profile\n"
	       "magassay-sim-icp describes) on a pseudo-terminal, until SIGINT or SIGTERM. The first line\n"
	       "on stdout is the URI to open, e.g. scpi+serial:/dev/pts/4.\n\n"
	       "  --rack PATH       rack file: what stands at each position (default: the built-in rack;\n"
	       "                    --print-rack shows it)\n"
	       "  --seed N          random stream (default 1)\n"
	       "  --serial S        the serial number *IDN? reports (default ICP-0001)\n"
	       "  --plasma on|off   plasma lit at start (default on)\n"
	       "  --drift X         drift of every line, %%/hour (default -1; the internal standard sees it)\n"
	       "  --noise X         noise scale (default 1; 0 = noiseless)\n"
	       "  --pixels N        pixels per spectral window, 16-128 (default 64)\n"
	       "  --busy-polls N    STATus:OPERation:CONDition? says \"measuring\" N times per run\n"
	       "  --error-at N[:C]  the Nth run puts error C (default -240) in the error queue, no data\n"
	       "  --drift-jump P@N  from the Nth run, every line but the internal standard reads P %% off\n"
	       "  --print-rack      print the built-in rack file and exit\n"
	       "  --pty             serve on a new pseudo-terminal (the default, and only, way)\n"
	       "  --link PATH       also make PATH a symlink to the pseudo-terminal (removed at exit)\n"
	       "  -h, --help        this help\n\n"
	       "The same instrument is available in process as sim:icp?seed=...&rack=... (see\n"
	       "docs/commands/sim.md); the wire protocol is docs/protocol-scpi-usbtmc.md.\n"
	       "Exit status: 0 stopped by a signal, 1 failure, 2 usage error.\n");
}

/* magassay sim icp [options] */
static int sim_icp(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rack", required_argument, NULL, 'R'},       {"seed", required_argument, NULL, 'r'},
		{"serial", required_argument, NULL, 'n'},     {"plasma", required_argument, NULL, 'P'},
		{"drift", required_argument, NULL, 'd'},      {"noise", required_argument, NULL, 'N'},
		{"pixels", required_argument, NULL, 'x'},     {"busy-polls", required_argument, NULL, 'b'},
		{"error-at", required_argument, NULL, 'e'},   {"drift-jump", required_argument, NULL, 'j'},
		{"print-rack", no_argument, NULL, 'W'},       {"pty", no_argument, NULL, 'p'},
		{"link", required_argument, NULL, 'l'},       {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	static const char *const keys[128] = {
		['R'] = "rack", ['r'] = "seed",       ['n'] = "serial",   ['P'] = "plasma",     ['d'] = "drift",
		['N'] = "noise", ['x'] = "pixels",    ['b'] = "busy_polls", ['e'] = "error_at", ['j'] = "drift_jump",
	};
	mg_buf params;
	mg_buf_init(&params);
	const char *link_path = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c > 0 && c < 128 && keys[c]) {
			if (append_param(&params, keys[c], optarg) < 0) {
				mg_buf_free(&params);
				return cli_usage("sim", "bad value '%s' for --%s", optarg, keys[c]);
			}
			continue;
		}
		switch (c) {
		case 'W': {
			size_t n;
			const char *t = mg_icpsim_builtin_rack(&n);
			fwrite(t, 1, n, stdout);
			mg_buf_free(&params);
			return CLI_OK;
		}
		case 'p':
			break;
		case 'l':
			link_path = optarg;
			break;
		case 'h':
			help_icp();
			mg_buf_free(&params);
			return CLI_OK;
		default:
			mg_buf_free(&params);
			return cli_usage("sim", "unknown option");
		}
	}
	if (optind < argc) {
		mg_buf_free(&params);
		return cli_usage("sim", "unexpected argument '%s'", argv[optind]);
	}
	mg_icpsim *sim = NULL;
	if (mg_icpsim_new(params.len ? params.data : NULL, &sim) != MG_OK) {
		mg_buf_free(&params);
		return cli_usage("sim", "%s", cli_lib_error());
	}
	int rc = serve_pty(feed_icp, report_icp, sim, "ICP-OES", "scpi+serial", params.len ? params.data : NULL, link_path);
	mg_icpsim_free(sim);
	mg_buf_free(&params);
	return rc;
}

int cmd_sim(int argc, char **argv)
{
	static const struct option opts[] = {
		{"sample", required_argument, NULL, 's'}, {"kv", required_argument, NULL, 'k'},
		{"ua", required_argument, NULL, 'u'},     {"anode", required_argument, NULL, 'a'},
		{"serial", required_argument, NULL, 'n'}, {"model", required_argument, NULL, 'm'},
		{"seed", required_argument, NULL, 'r'},   {"speed", required_argument, NULL, 'x'},
		{"pty", no_argument, NULL, 'p'},          {"link", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	static const char *const keys[] = {
		['s'] = "sample", ['k'] = "kv", ['u'] = "ua", ['a'] = "anode", ['n'] = "serial",
		['m'] = "model",  ['r'] = "seed", ['x'] = "speed",
	};
	if (argc >= 2 && !strcmp(argv[1], "icp"))
		return sim_icp(argc - 1, argv + 1);
	mg_buf params;
	mg_buf_init(&params);
	const char *link_path = NULL;
	int c, rc = CLI_OK;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
		case 'k':
		case 'u':
		case 'a':
		case 'n':
		case 'm':
		case 'r':
		case 'x':
			if (append_param(&params, keys[c], optarg) < 0) {
				mg_buf_free(&params);
				return cli_usage("sim", "bad value '%s' for --%s", optarg, keys[c]);
			}
			break;
		case 'p':
			break;
		case 'l':
			link_path = optarg;
			break;
		case 'h':
			help();
			mg_buf_free(&params);
			return CLI_OK;
		default:
			mg_buf_free(&params);
			return cli_usage("sim", "unknown option");
		}
	}
	if (optind >= argc) {
		mg_buf_free(&params);
		return cli_usage("sim", "which simulator? (known: xrf, icp)");
	}
	if (strcmp(argv[optind], "xrf") != 0 || optind + 1 < argc) {
		mg_buf_free(&params);
		return cli_usage("sim", "unknown simulator '%s' (known: xrf; and icp, as 'magassay sim icp [options]')",
		                 argv[optind]);
	}

	mg_dp5sim *sim = NULL;
	if (mg_dp5sim_new(params.len ? params.data : NULL, &sim) != MG_OK) {
		mg_buf_free(&params);
		return cli_usage("sim", "%s", cli_lib_error());
	}

	rc = serve_pty(feed_dp5, report_dp5, sim, "XRF instrument", "serial", params.len ? params.data : NULL, link_path);
	mg_dp5sim_free(sim);
	mg_buf_free(&params);
	return rc;
}
