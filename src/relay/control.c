/* control.c — the front↔core control messages (see control.h). */
#include "relay/control.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

_Static_assert(sizeof(struct wr_ctl_msg) == 64, "control messages are 64 bytes");

int wr_ctl_keyed(int type)
{
	return type == WR_CTL_HOLD || type == WR_CTL_DROP || type == WR_CTL_HELD;
}

void wr_ctl_init(struct wr_ctl_msg *m, int type)
{
	memset(m, 0, sizeof *m);
	m->magic = WR_CTL_MAGIC;
	m->version = WR_CTL_VERSION;
	m->type = (uint16_t)type;
}

int wr_ctl_decode(struct wr_ctl_msg *out, char *key, const void *buf, size_t len,
		  struct wr_error *err)
{
	key[0] = '\0';
	if (len < sizeof *out)
		return wr_error_set(err, WR_INVALID_ARGUMENT,
				    "control message of %zu bytes, want %zu", len, sizeof *out);
	memcpy(out, buf, sizeof *out);
	if (out->magic != WR_CTL_MAGIC || out->version != WR_CTL_VERSION)
		return wr_error_set(err, WR_INVALID_ARGUMENT,
				    "control message magic %#x version %u, want %#x version %u "
				    "(front and core from different builds?)",
				    out->magic, out->version, WR_CTL_MAGIC, WR_CTL_VERSION);
	if (out->type < WR_CTL_EXIT || out->type > WR_CTL_TYPE_LAST)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "control message of unknown type %u",
				    out->type);
	if (!memchr(out->backend, '\0', sizeof out->backend))
		return wr_error_set(err, WR_INVALID_ARGUMENT,
				    "control message backend name is not terminated");
	size_t klen = len - sizeof *out;
	if (!wr_ctl_keyed(out->type)) {
		if (klen)
			return wr_error_set(err, WR_INVALID_ARGUMENT,
					    "control message of %zu bytes, want %zu", len, sizeof *out);
		return 0;
	}
	const char *k = (const char *)buf + sizeof *out;
	if (klen == 0 || klen > WR_CTL_KEY_MAX || memchr(k, '\0', klen))
		return wr_error_set(err, WR_INVALID_ARGUMENT,
				    "control message %u: key of %zu bytes missing, too long or not text",
				    out->type, klen);
	int all = out->type == WR_CTL_DROP && out->status == WR_CTL_SLOT_ALL;
	if (!all && (out->status < 0 || out->status >= WR_CTL_SLOTS))
		return wr_error_set(err, WR_INVALID_ARGUMENT, "control message %u: no slot %d",
				    out->type, out->status);
	memcpy(key, k, klen);
	key[klen] = '\0';
	return 0;
}

int wr_ctl_send(int fd, const struct wr_ctl_msg *m, const char *key, int pass_fd,
		struct wr_error *err)
{
	size_t klen = key ? strlen(key) : 0;
	if (wr_ctl_keyed(m->type) != (klen > 0) || klen > WR_CTL_KEY_MAX) {
		wr_error_set(err, WR_INVALID_ARGUMENT, "control message %u: key of %zu bytes",
			     m->type, klen);
		errno = EINVAL;
		return -1;
	}
	struct iovec iov[2] = { { .iov_base = (void *)m, .iov_len = sizeof *m },
				{ .iov_base = (void *)key, .iov_len = klen } };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = klen ? 2 : 1 };
	if (pass_fd >= 0) {
		memset(&c, 0, sizeof c);
		mh.msg_control = c.buf;
		mh.msg_controllen = sizeof c.buf;
		struct cmsghdr *ch = CMSG_FIRSTHDR(&mh);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(ch), &pass_fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		wr_error_errno(err, e, "control socket send");
		errno = e;
		return -1;
	}
	return 0;
}

static int takes_fd(int type)
{
	return type == WR_CTL_ADOPT || type == WR_CTL_HOLD || type == WR_CTL_HELD ||
	       type == WR_CTL_GENS;
}

int wr_ctl_recv(int fd, struct wr_ctl_msg *m, char *key, int *got_fd, struct wr_error *err)
{
	uint8_t buf[sizeof *m + WR_CTL_KEY_MAX + 1];   /* a spare byte: too long is caught */
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} c;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			     .msg_controllen = sizeof c.buf };
	*got_fd = -1;
	key[0] = '\0';
	ssize_t n;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		wr_error_errno(err, e, "control socket receive");
		errno = e;
		return -1;
	}
	if (n == 0 && !(mh.msg_flags & MSG_TRUNC))
		return 0;
	for (struct cmsghdr *ch = CMSG_FIRSTHDR(&mh); ch; ch = CMSG_NXTHDR(&mh, ch)) {
		if (ch->cmsg_level != SOL_SOCKET || ch->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (ch->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int f;
			memcpy(&f, CMSG_DATA(ch) + i * sizeof(int), sizeof f);
			if (*got_fd < 0)
				*got_fd = f;
			else
				close(f);   /* one fd per message; extras are a peer bug */
		}
	}
	int rc = 0;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		rc = wr_error_set(err, WR_INVALID_ARGUMENT, "control message truncated");
	else if (wr_ctl_decode(m, key, buf, (size_t)n, err) < 0)
		rc = -1;
	else if (*got_fd >= 0 && !takes_fd(m->type))
		rc = wr_error_set(err, WR_INVALID_ARGUMENT, "control message type %u carries an fd",
				  m->type);
	if (rc < 0) {
		if (*got_fd >= 0)
			close(*got_fd);
		*got_fd = -1;
		key[0] = '\0';
		errno = EBADMSG;
		return -1;
	}
	return 1;
}
