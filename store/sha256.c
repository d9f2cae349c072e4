/* SPDX-License-Identifier: GPL-3.0-or-later */
/* SHA-256 of files (streamed) and memory, through OpenSSL's EVP interface. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"

static void to_hex(const unsigned char *d, unsigned n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[2 * n] = '\0';
}

static int finish(EVP_MD_CTX *ctx, char hex_out[MG_SHA256_HEX_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != 32)
		return mg_fail(MG_ERR_INTERNAL, STORE_DOM, "SHA-256: the digest failed");
	to_hex(md, n, hex_out);
	return MG_OK;
}

int mg_sha256_mem(const void *data, size_t len, char hex_out[MG_SHA256_HEX_SIZE])
{
	if (!hex_out || (!data && len))
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_sha256_mem: bad arguments");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "SHA-256: out of memory");
	int e = MG_OK;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(ctx, data, len) != 1)
		e = mg_fail(MG_ERR_INTERNAL, STORE_DOM, "SHA-256: the digest failed");
	else
		e = finish(ctx, hex_out);
	EVP_MD_CTX_free(ctx);
	return e;
}

int mg_sha256_file(const char *path, char hex_out[MG_SHA256_HEX_SIZE], long long *size_out)
{
	if (!path || !hex_out)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_sha256_file: bad arguments");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return mg_fail(e == ENOENT ? MG_ERR_NOT_FOUND : MG_ERR_IO, STORE_DOM, "%s: cannot open: %s", path,
		               strerror(e));
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return mg_fail(MG_ERR_ARG, STORE_DOM, "%s: not a regular file", path);
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		close(fd);
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "SHA-256: cannot start a digest");
	}
	unsigned char buf[65536];
	long long total = 0;
	int e = MG_OK;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = mg_fail(MG_ERR_IO, STORE_DOM, "%s: read failed: %s", path, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1) {
			e = mg_fail(MG_ERR_INTERNAL, STORE_DOM, "SHA-256: the digest failed");
			break;
		}
		total += r;
	}
	close(fd);
	if (e == MG_OK)
		e = finish(ctx, hex_out);
	EVP_MD_CTX_free(ctx);
	if (e == MG_OK && size_out)
		*size_out = total;
	return e;
}
