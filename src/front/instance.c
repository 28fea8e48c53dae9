/* instance.c — paths of one warrend instance, keyed by containerd's address
 * (see instance.h); the base directories come from the caller's loaded
 * warren.conf (config.h).  SHA-256 comes from libmd (tiny: the shim starts for every pod, and
 * OpenSSL's libcrypto alone added ~9 ms to each start). */
#include "front/instance.h"


#include <errno.h>
#include <sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

static int fmt(char *out, size_t size, struct wr_error *err, const char *f, const char *a,
	       const char *b)
{
	int n = snprintf(out, size, f, a, b);
	if (n < 0 || (size_t)n >= size)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "path too long: %s/%s", a, b);
	return 0;
}

int wr_instance_init(struct wr_instance *in, const char *address, const struct wr_config *cfg,
		     struct wr_error *err)
{
	memset(in, 0, sizeof *in);
	if (!address || !*address)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "containerd address is empty");
	if (strncmp(address, "unix://", 7) == 0)
		address += 7;
	char hex[SHA256_DIGEST_STRING_LENGTH];
	if (!SHA256Data((const uint8_t *)address, strlen(address), hex))
		return wr_error_set(err, WR_INTERNAL, "sha256 of the containerd address failed");
	memcpy(in->key, hex, sizeof in->key - 1);
	in->key[sizeof in->key - 1] = '\0';
	const char *state = cfg->state_dir, *root = cfg->root_dir;
	if (fmt(in->state_dir, sizeof in->state_dir, err, "%s/%s", state, in->key) ||
	    fmt(in->root_dir, sizeof in->root_dir, err, "%s/%s", root, in->key) ||
	    fmt(in->db_path, sizeof in->db_path, err, "%s/%s", in->root_dir, "warren.db") ||
	    fmt(in->lock_path, sizeof in->lock_path, err, "%s/%s", in->state_dir, "warrend.lock") ||
	    fmt(in->ready_path, sizeof in->ready_path, err, "%s/%s", in->state_dir, "warrend.ready") ||
	    fmt(in->log_path, sizeof in->log_path, err, "%s/%s", in->state_dir, "warrend.log"))
		return -1;
	return 0;
}

int wr_instance_socket(const struct wr_instance *in, const char *backend, char *out, size_t size,
		       struct wr_error *err)
{
	struct sockaddr_un sun;
	int n = snprintf(out, size, "%s/%s.sock", in->state_dir, backend);
	if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof sun.sun_path)
		return wr_error_set(err, WR_INVALID_ARGUMENT,
				    "socket path %s/%s.sock is longer than a unix socket allows",
				    in->state_dir, backend);
	return 0;
}
