/* control.c — the front↔core control messages (see control.h). */
#include "relay/control.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

_Static_assert(sizeof(struct wr_ctl_msg) == 64, "control messages are 64 bytes");

void wr_ctl_init(struct wr_ctl_msg *m, int type)
{
	memset(m, 0, sizeof *m);
	m->magic = WR_CTL_MAGIC;
	m->version = WR_CTL_VERSION;
	m->type = (uint16_t)type;
}

int wr_ctl_decode(struct wr_ctl_msg *out, const void *buf, size_t len, struct wr_error *err)
{
	if (len != sizeof *out)
		return wr_error_set(err, WR_INVALID_ARGUMENT,
				    "control message of %zu bytes, want %zu", len, sizeof *out);
	memcpy(out, buf, sizeof *out);
	if (out->magic != WR_CTL_MAGIC || out->version != WR_CTL_VERSION)
		return wr_error_set(err, WR_INVALID_ARGUMENT,
				    "control message magic %#x version %u, want %#x version %u "
				    "(front and core from different builds?)",
				    out->magic, out->version, WR_CTL_MAGIC, WR_CTL_VERSION);
	if (out->type < WR_CTL_EXIT || out->type > WR_CTL_ADOPT)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "control message of unknown type %u",
				    out->type);
	if (!memchr(out->backend, '\0', sizeof out->backend))
		return wr_error_set(err, WR_INVALID_ARGUMENT,
				    "control message backend name is not terminated");
	return 0;
}

int wr_ctl_send(int fd, const struct wr_ctl_msg *m, int pass_fd, struct wr_error *err)
{
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof *m };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
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

int wr_ctl_recv(int fd, struct wr_ctl_msg *m, int *got_fd, struct wr_error *err)
{
	uint8_t buf[sizeof *m + 1];   /* one spare byte tells a too-long packet */
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} c;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			     .msg_controllen = sizeof c.buf };
	*got_fd = -1;
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
	int bad = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	if (bad)
		wr_error_set(err, WR_INVALID_ARGUMENT, "control message truncated");
	if (bad || wr_ctl_decode(m, buf, (size_t)n, err) < 0 ||
	    (*got_fd >= 0 && m->type != WR_CTL_ADOPT)) {
		if (!bad && *got_fd >= 0 && m->type != WR_CTL_ADOPT)
			wr_error_set(err, WR_INVALID_ARGUMENT, "control message type %u carries an fd",
				     m->type);
		if (*got_fd >= 0)
			close(*got_fd);
		*got_fd = -1;
		errno = EBADMSG;
		return -1;
	}
	return 1;
}
