/* SPDX-License-Identifier: GPL-3.0-or-later */
/* DP5 readout benchmark: the driver (include/magassay/device.h) reading an
 * 8192-channel spectrum + status from the simulated DP5
 *   - over the emulated USB link (libusb under umockdev): spectra per second,
 *     and the time of one readout as a ratio to a status-only round trip
 *     measured in the same run;
 *   - over RS-232 at 115200 baud on the emulated /dev/ttyUSB0 (libserialport):
 *     the readout time as a ratio to the wire time of the bytes moved
 *     (request 8 + answer 24648 bytes, 10 bits each), once with the emulated
 *     tty as it is (bytes move at memory speed) and once with the device's
 *     answer paced at 115200 baud, as a real line would.
 * Usage: bench_dp5_readout [USB_READS [SERIAL_PACED_READS]] (default 300 2).
 * Not a test: prints figures, exits 0 (77 when umockdev is unavailable). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "magassay/device.h"
#include "magassay/error.h"
#include "magassay/log.h"
#include "mg_harness.h"

#define NCHAN 8192
#define ANSWER_BYTES (8 + 3 * NCHAN + 64) /* 24648 */
#define REQUEST_BYTES 8
#define BAUD 115200.0

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_dp5_readout: %s: %s\n", what, mg_error_detail());
	exit(1);
}

/* Configure 8192 channels, acquire a little, stop: a full, stable spectrum. */
static void prepare(mg_device *dev)
{
	mg_xrf_status st;
	mg_kvlist kv = {0};
	mg_device_set_timeout(dev, 10000);
	if (mg_device_configure(dev, "MCAC=8192;PRET=OFF;PREC=OFF;") || mg_device_clear(dev) || mg_device_start(dev))
		die("configure");
	for (int i = 0; i < 50; i++)
		if (mg_device_status(dev, &st))
			die("status");
	if (mg_device_stop(dev) || mg_device_read_config(dev, NULL, &kv) < 0)
		die("stop");
	mg_kvlist_clear(&kv);
}

static double time_status(mg_device *dev, int n)
{
	mg_xrf_status st;
	double t0 = now_s();
	for (int i = 0; i < n; i++)
		if (mg_device_status(dev, &st))
			die("status");
	return (now_s() - t0) / n;
}

static double time_spectra(mg_device *dev, int n, double *counts)
{
	mg_xrf_status st;
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		mg_spectrum *s = NULL;
		if (mg_device_read_spectrum(dev, 0, &s, &st))
			die("read spectrum");
		if (s->nchan != NCHAN)
			die("channel count");
		*counts = mg_spectrum_total(s);
		mg_spectrum_free(s);
	}
	return (now_s() - t0) / n;
}

/* ------------------------------------------------------------ paced serial line */

/* The device's answers go out at 115200 baud: the harness callback queues them,
 * a thread pushes them into the tty in 16-byte slices on a 10-bits-per-byte clock. */
struct pacer {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	mg_dp5sim *sim;
	mg_ttysim *tty;
	mg_buf q;
	size_t pos;
	int stop;
	int paced; /* 0: answer directly (memory speed) */
};

static void pacer_serve(const uint8_t *in, size_t n, mg_buf *out, void *ud)
{
	struct pacer *p = ud;
	if (!__atomic_load_n(&p->paced, __ATOMIC_ACQUIRE)) {
		mg_dp5sim_feed(p->sim, in, n, out);
		return;
	}
	mg_buf ans;
	mg_buf_init(&ans);
	mg_dp5sim_feed(p->sim, in, n, &ans);
	pthread_mutex_lock(&p->lock);
	mg_buf_append(&p->q, ans.data, ans.len);
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	mg_buf_free(&ans);
}

static void *pacer_run(void *arg)
{
	struct pacer *p = arg;
	const double byte_s = 10.0 / BAUD;
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		if (p->pos >= p->q.len) {
			mg_buf_reset(&p->q);
			p->pos = 0;
			pthread_cond_wait(&p->cond, &p->lock);
			continue;
		}
		double t0 = now_s();
		size_t sent = 0;
		while (p->pos < p->q.len && !p->stop) {
			size_t k = p->q.len - p->pos < 16 ? p->q.len - p->pos : 16;
			uint8_t chunk[16];
			memcpy(chunk, p->q.data + p->pos, k);
			p->pos += k;
			pthread_mutex_unlock(&p->lock);
			sent += k;
			/* the last bit of the slice leaves the wire at t0 + sent * byte time */
			double due = t0 + (double)sent * byte_s;
			double wait = due - now_s();
			if (wait > 0) {
				struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
				nanosleep(&ts, NULL);
			}
			mg_ttysim_push(p->tty, chunk, k);
			pthread_mutex_lock(&p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int main(int argc, char **argv)
{
	mg_harness_require_umockdev(argc, argv);
	int usb_reads = argc > 1 ? atoi(argv[1]) : 300;
	int paced_reads = argc > 2 ? atoi(argv[2]) : 2;
	if (usb_reads < 1)
		usb_reads = 1;
	if (paced_reads < 1)
		paced_reads = 1;
	mg_log_set_level(MG_LOG_ERR);

	printf("DP5 readout: %d channels + status = %d bytes per answer, simulated DP5 (drivers/sim/dp5_device.c)\n\n",
	       NCHAN, ANSWER_BYTES);

	/* ---- USB */
	mg_dp5sim *sim = NULL;
	if (mg_dp5sim_new("speed=100", &sim))
		die("simulator");
	mg_usbsim *usb = mg_usbsim_start(0x10c4, 0x842a, NULL, mg_dp5sim_serve, sim);
	if (!usb)
		die("usbsim");
	mg_device *dev = NULL;
	if (mg_device_open(mg_usbsim_uri(usb), &dev))
		die("open usb");
	prepare(dev);
	double counts = 0;
	double t_status = time_status(dev, usb_reads * 5);
	double t_spec = time_spectra(dev, usb_reads, &counts);
	mg_usbsim_set_max_transfer(usb, 512);
	double t_spec512 = time_spectra(dev, usb_reads / 10 + 1, &counts);
	mg_usbsim_set_max_transfer(usb, 0);
	printf("USB, libusb under umockdev (%s)\n", mg_transport_description(mg_device_get_transport(dev)));
	printf("  status round trip (baseline)      %8.3f ms  %8.0f /s\n", t_status * 1e3, 1 / t_status);
	printf("  spectrum + status, 8192 channels  %8.3f ms  %8.1f spectra/s  = %.2f x the status round trip"
	       "  (%.1f MB/s; %.0f counts)\n",
	       t_spec * 1e3, 1 / t_spec, t_spec / t_status, ANSWER_BYTES / t_spec / 1e6, counts);
	printf("  same, device sends <= 512 B/URB   %8.3f ms  %8.1f spectra/s  = %.2f x the status round trip\n",
	       t_spec512 * 1e3, 1 / t_spec512, t_spec512 / t_status);
	printf("  (USB full speed would need >= %.1f ms on the bus for %d bytes at ~1.2 MB/s of bulk)\n\n",
	       ANSWER_BYTES / 1.216e3, ANSWER_BYTES);
	mg_device_close(dev);
	mg_usbsim_stop(usb);

	/* ---- serial at 115200 */
	struct pacer p;
	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	mg_buf_init(&p.q);
	p.sim = sim;
	p.tty = mg_ttysim_start(0, pacer_serve, &p);
	if (!p.tty)
		die("ttysim");
	pthread_create(&p.thread, NULL, pacer_run, &p);
	if (mg_device_open(mg_ttysim_uri(p.tty), &dev))
		die("open serial");
	prepare(dev);
	double wire = (REQUEST_BYTES + ANSWER_BYTES) * 10.0 / BAUD;
	double status_wire = (REQUEST_BYTES + 72) * 10.0 / BAUD;
	double t_fast = time_spectra(dev, usb_reads / 10 + 1, &counts);
	double s_fast = time_status(dev, usb_reads);
	__atomic_store_n(&p.paced, 1, __ATOMIC_RELEASE);
	double s_paced = time_status(dev, 20);
	double t_paced = time_spectra(dev, paced_reads, &counts);
	printf("Serial 115200 8N1, libserialport on the emulated %s: wire time of %d bytes = %.1f ms\n",
	       mg_ttysim_path(p.tty), REQUEST_BYTES + ANSWER_BYTES, wire * 1e3);
	printf("  emulated tty as is (memory speed)  %8.2f ms  = %.4f x wire time  (status: %.3f ms = %.3f x %.2f ms)\n",
	       t_fast * 1e3, t_fast / wire, s_fast * 1e3, s_fast / status_wire, status_wire * 1e3);
	printf("  answer paced at 115200 baud        %8.1f ms  = %.3f x wire time  (status: %.2f ms = %.3f x)\n",
	       t_paced * 1e3, t_paced / wire, s_paced * 1e3, s_paced / status_wire);
	printf("  (only the device's answers are paced; the 8-byte requests go out at once, hence status < 1)\n");
	mg_device_stats ds = mg_device_get_stats(dev);
	printf("  driver: %u requests, %u retries, %u timeouts\n", ds.requests, ds.retries, ds.timeouts);
	mg_device_close(dev);

	pthread_mutex_lock(&p.lock);
	p.stop = 1;
	pthread_cond_signal(&p.cond);
	pthread_mutex_unlock(&p.lock);
	pthread_join(p.thread, NULL);
	mg_ttysim_stop(p.tty);
	mg_buf_free(&p.q);
	pthread_cond_destroy(&p.cond);
	pthread_mutex_destroy(&p.lock);
	mg_dp5sim_free(sim);
	return 0;
}
