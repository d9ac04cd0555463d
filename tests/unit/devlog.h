/*
 * devlog.h - a private /dev/log for tests of the syslog path.  syslog(3)
 * always writes to /dev/log, so the test process enters its own mount
 * namespace, mounts a small tmpfs on /dev there and binds a datagram socket
 * at /dev/log: its syslog(3) calls, and those of daemons it forks, reach
 * the test and never the host's logger.  Needs root (CAP_SYS_ADMIN).
 */
#ifndef TESTS_UNIT_DEVLOG_H
#define TESTS_UNIT_DEVLOG_H

#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The socket, or -1 (no privilege: the caller skips). */
static int devlog_open(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("devlog", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
		  "mode=0755,size=64k") < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, "/dev/log");
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		umount2("/dev", MNT_DETACH);
		return -1;
	}
	return fd;
}

/* Back to the real /dev (in this process's namespace only). */
static void devlog_close(int fd)
{
	if (fd >= 0)
		close(fd);
	umount2("/dev", MNT_DETACH);
}

/* Appends every datagram that arrives within ms (of quiet) to buf, one a
 * line, NUL-terminated; returns how many arrived. */
static int devlog_read(int fd, char *buf, size_t size, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t len = strlen(buf);
	int n = 0;
	ssize_t r;

	while (len + 2 < size && poll(&p, 1, ms) == 1) {
		r = recv(fd, buf + len, size - len - 2, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len++] = '\n';
		buf[len] = '\0';
		n++;
	}
	return n;
}

#endif
