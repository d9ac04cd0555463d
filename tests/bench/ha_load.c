/*
 * ha_load.c - over-the-wire load for a real home agent: the generator and
 * the reference reflector that tests/bench/ha_load.sh runs in two network
 * namespaces.  A benchmark tool, not a test: it asserts nothing.
 *
 *   ha_load setup DIR N
 *	keys and the mobile_nodes list for N nodes: DIR/k0.key .. k255.key
 *	(16 random bytes as 0x..., mode 600; node i uses key i % 256) and
 *	DIR/mobile_nodes.conf.  Node i: home address 10.0.0.1 + i, SPI
 *	256 + i % 65536, HMAC-MD5.
 *   ha_load run -d DIR -n N -a HA [-p PORT] [-o OPS] [-m MODE] [-w WIN]
 *		 [-s SOCKS] [-P PID]
 *	OPS authenticated Registration Requests (RFC 5944 3.3, MN-HA
 *	HMAC-MD5, timestamps) to HA:PORT, at most WIN unanswered at a time,
 *	from SOCKS UDP sockets (one address, SOCKS ports).  MODE: seq
 *	(nodes 0..OPS-1, the first registrations), random (nodes drawn at
 *	random below N: re-registrations), echo (requests as random, against
 *	the reflector: replies are counted, not verified).  Requests are all
 *	built and signed before the clock starts and replies are stored and
 *	verified after it stops, so the timed loop is sendmmsg/recvmmsg and
 *	the generator's core does not cap the rate.  Prints one line of
 *	key=value figures; with -P, the CPU the process PID used meanwhile
 *	(utime + stime from /proc/PID/stat).
 *   ha_load reflect [-p PORT] [-b BATCH]
 *	the reference: answers every datagram on UDP PORT with its own bytes,
 *	with the home agent's socket handling (IP_PKTINFO in, the local
 *	address out, BATCH datagrams per wakeup through recvmmsg/sendmmsg, or
 *	recvmsg/sendmsg one by one with -b 1) and no work besides: the
 *	syscall floor of a request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "mipd/conf.h"
#include "mipd/mip4.h"
#include "mipd/reg_auth.h"
#include "mipd/reg_msg.h"

#define NKEYS	  256
#define KEY_LEN	  16
#define HOA_BASE  0x0a000001u /* 10.0.0.1 */
#define MAX_NODES (1u << 23)  /* inside 10.0.0.0/8 */
#define PKT_MAX	  64	      /* a request is 46 bytes, an accept 42 */
#define BATCH	  64
#define MAX_SOCKS 64
#define LOSS_MS	  2000 /* no reply for this long: the rest are lost */

struct opts {
	const char *dir, *mode;
	size_t n, ops, win;
	unsigned socks;
	uint32_t ha;
	uint16_t port;
	long pid;
	unsigned batch;
};

static uint8_t keys[NKEYS][KEY_LEN];

static void die(const char *what)
{
	fprintf(stderr, "ha_load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint32_t hoa_of(size_t i)
{
	return htonl(HOA_BASE + (uint32_t)i);
}

static struct reg_sa sa_of(size_t i)
{
	return (struct reg_sa){.key = keys[i % NKEYS],
			       .key_len = KEY_LEN,
			       .spi = 256 + (uint32_t)(i & 0xffff),
			       .alg = REG_ALG_HMAC_MD5};
}

/* ---- setup ---- */

static void write_key(const char *dir, unsigned k)
{
	uint8_t key[KEY_LEN];
	char path[4096], line[2 * KEY_LEN + 4];
	int fd, len;

	snprintf(path, sizeof(path), "%s/k%u.key", dir, k);
	if (RAND_bytes(key, sizeof(key)) != 1)
		die("RAND_bytes");
	len = snprintf(line, sizeof(line), "0x");
	for (size_t i = 0; i < sizeof(key); i++)
		len += snprintf(line + len, sizeof(line) - (size_t)len, "%02x",
				key[i]);
	line[len++] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		die(path);
	if (write(fd, line, (size_t)len) != len)
		die(path);
	close(fd);
}

static int setup(const char *dir, size_t n)
{
	char path[4096], ip[INET_ADDRSTRLEN];
	FILE *f;

	for (unsigned k = 0; k < NKEYS; k++)
		write_key(dir, k);
	snprintf(path, sizeof(path), "%s/mobile_nodes.conf", dir);
	if (!(f = fopen(path, "w")))
		die(path);
	fprintf(f, "mobile_nodes = (\n");
	for (size_t i = 0; i < n; i++) {
		struct in_addr a = {.s_addr = hoa_of(i)};

		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		fprintf(f,
			"{ home_address = \"%s\"; spi = %u; "
			"key_file = \"%s/k%zu.key\"; }%s\n",
			ip, 256 + (unsigned)(i & 0xffff), dir, i % NKEYS,
			i + 1 < n ? "," : "");
	}
	fprintf(f, ");\n");
	if (fclose(f) != 0)
		die(path);
	return 0;
}

static void load_keys(const char *dir)
{
	for (unsigned k = 0; k < NKEYS; k++) {
		uint8_t raw[128];
		char path[4096];
		size_t klen = 0;
		ssize_t len;
		int fd;

		snprintf(path, sizeof(path), "%s/k%u.key", dir, k);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			die(path);
		len = read(fd, raw, sizeof(raw));
		close(fd);
		while (len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == ' '))
			len--;
		if (len <= 0 ||
		    mipd_key_decode(raw, (size_t)len, keys[k], KEY_LEN, &klen) <
			0 ||
		    klen != KEY_LEN) {
			fprintf(stderr, "ha_load: %s: not a %d-byte key\n",
				path, KEY_LEN);
			exit(1);
		}
	}
}

/* ---- requests ---- */

struct load {
	uint8_t (*req)[PKT_MAX];
	uint8_t *req_len;
	uint8_t (*rep)[PKT_MAX];
	uint8_t *rep_len;
	size_t nrep;
	size_t stalls; /* times nothing came back for LOSS_MS */
};

static uint64_t ntp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return reg_ntp_from_timespec(&ts, 0);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static size_t rnd_below(size_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (size_t)(rnd_state % n);
}

/* Identifications grow by about a microsecond per request, so every node's
 * are increasing in send order, as RFC 5944 5.7.1 wants. */
static void build(struct load *ld, const struct opts *o, uint32_t coa)
{
	uint64_t id = ntp_now();
	bool seq = strcmp(o->mode, "seq") == 0;

	for (size_t j = 0; j < o->ops; j++) {
		size_t i = seq ? j % o->n : rnd_below(o->n);
		struct reg_request rq = {.lifetime = 1800,
					 .flags = MIP4_RRQ_T,
					 .id = id + ((uint64_t)j << 12)};
		struct reg_sa sa = sa_of(i);
		struct reg_builder b;
		struct wbuf w;
		size_t len = 0;

		rq.home.s_addr = hoa_of(i);
		rq.coa.s_addr = coa;
		rq.ha.s_addr = o->ha;
		wb_init(&w, ld->req[j], PKT_MAX);
		reg_build_request(&b, &w, &rq);
		if (reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, &sa) != REG_OK ||
		    reg_build_end(&b, &len) != REG_OK) {
			fprintf(stderr, "ha_load: cannot build a request\n");
			exit(1);
		}
		ld->req_len[j] = (uint8_t)len;
	}
}

/* ---- the timed loop ---- */

static double cpu_s(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	ssize_t len;
	int fd;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	/* fields 14 and 15, counted after the ")" that ends comm */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int open_socks(const struct opts *o, int *fds, uint32_t *src)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(o->port),
				 .sin_addr.s_addr = o->ha};
	int big = 8 << 20;

	for (unsigned s = 0; s < o->socks; s++) {
		struct sockaddr_in me;
		socklen_t ml = sizeof(me);
		int fd = socket(AF_INET,
				SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0)
			die("socket");
		/* replies must never be lost on our side */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big,
			       sizeof(big)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big,
				   sizeof(big));
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0)
			die("connect to the home agent");
		if (getsockname(fd, (struct sockaddr *)&me, &ml) < 0)
			die("getsockname");
		*src = me.sin_addr.s_addr;
		fds[s] = fd;
	}
	return 0;
}

static size_t send_some(struct load *ld, int fd, size_t next, size_t k)
{
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	int r;

	for (size_t j = 0; j < k; j++) {
		iov[j] =
		    (struct iovec){ld->req[next + j], ld->req_len[next + j]};
		mm[j] = (struct mmsghdr){
		    .msg_hdr = {.msg_iov = &iov[j], .msg_iovlen = 1}};
	}
	r = sendmmsg(fd, mm, (unsigned)k, MSG_DONTWAIT);
	if (r < 0 && errno != EAGAIN && errno != ENOBUFS &&
	    errno != ECONNREFUSED)
		die("sendmmsg");
	return r < 0 ? 0 : (size_t)r;
}

static size_t recv_some(struct load *ld, int fd, size_t cap)
{
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	size_t k = cap < BATCH ? cap : BATCH;
	int r;

	if (k == 0)
		return 0;
	for (size_t j = 0; j < k; j++) {
		iov[j] = (struct iovec){ld->rep[ld->nrep + j], PKT_MAX};
		mm[j] = (struct mmsghdr){
		    .msg_hdr = {.msg_iov = &iov[j], .msg_iovlen = 1}};
	}
	r = recvmmsg(fd, mm, (unsigned)k, MSG_DONTWAIT, NULL);
	if (r < 0)
		return 0; /* EAGAIN, or ECONNREFUSED before the HA is up */
	for (int j = 0; j < r; j++)
		ld->rep_len[ld->nrep + (size_t)j] =
		    (uint8_t)(mm[j].msg_len > PKT_MAX ? 0 : mm[j].msg_len);
	ld->nrep += (size_t)r;
	return (size_t)r;
}

/* Keeps at most o->win requests unanswered; a reply frees a slot.  Spins
 * instead of sleeping, so a busy machine's scheduler adds no wakeup
 * latency on our side.  Returns the seconds from the first send to the
 * last reply. */
static double drive(struct load *ld, const struct opts *o, int *fds)
{
	size_t next = 0, inflight = 0;
	uint64_t t0 = mono_ns(), last = t0, tend = t0;
	unsigned s = 0;

	while (next < o->ops || inflight > 0) {
		size_t got = 0, room = o->win - inflight;

		if (next < o->ops && room > 0) {
			size_t k = o->ops - next;

			k = k < room ? k : room;
			k = k < BATCH ? k : BATCH;
			k = send_some(ld, fds[s], next, k);
			s = (s + 1) % o->socks;
			next += k;
			inflight += k;
		}
		for (unsigned i = 0; i < o->socks; i++)
			got += recv_some(ld, fds[i], o->ops - ld->nrep);
		if (got) {
			inflight -= got < inflight ? got : inflight;
			last = tend = mono_ns();
		} else if (mono_ns() - last > LOSS_MS * NS_PER_MS) {
			/* dropped somewhere: free the window and go on */
			ld->stalls++;
			inflight = 0;
			last = mono_ns();
		}
	}
	return (double)(tend - t0) / 1e9;
}

/* Accepted replies whose MN-HA authenticator checks with the node's key. */
static size_t verify(const struct load *ld, const struct opts *o,
		     unsigned *codes)
{
	size_t valid = 0;

	for (size_t j = 0; j < ld->nrep; j++) {
		struct reg_msg m;
		size_t i;

		if (reg_parse_reply(&m, ld->rep[j], ld->rep_len[j]) != REG_OK) {
			codes[255]++;
			continue;
		}
		codes[m.rp.code]++;
		i = ntohl(m.rp.home.s_addr) - HOA_BASE;
		if (i < o->n && m.has_mnha && MIP4_CODE_IS_SUCCESS(m.rp.code)) {
			struct reg_sa sa = sa_of(i);

			valid +=
			    reg_auth_verify(&m, &m.mnha, &sa, 1) == REG_AUTH_OK;
		}
	}
	return valid;
}

static int run(const struct opts *o)
{
	struct load ld = {0};
	int fds[MAX_SOCKS];
	unsigned codes[256] = {0};
	uint32_t src = 0;
	double secs, c0, c1;
	size_t valid;
	int top = 0;

	if (!o->dir || !o->n || !o->ha || o->n > MAX_NODES ||
	    o->socks > MAX_SOCKS || !o->socks || !o->win || !o->ops) {
		fprintf(stderr,
			"ha_load run: need -d DIR -n N (1..%u) -a HA; "
			"-s 1..%d\n",
			MAX_NODES, MAX_SOCKS);
		return 2;
	}
	load_keys(o->dir);
	open_socks(o, fds, &src);
	ld.req = malloc(o->ops * sizeof(*ld.req));
	ld.req_len = malloc(o->ops);
	ld.rep = malloc(o->ops * sizeof(*ld.rep));
	ld.rep_len = malloc(o->ops);
	if (!ld.req || !ld.req_len || !ld.rep || !ld.rep_len)
		die("malloc");
	/* touch the reply buffer now, not in the timed loop */
	memset(ld.rep, 0, o->ops * sizeof(*ld.rep));
	build(&ld, o, src); /* care-of address = our source: no NAT */
	c0 = cpu_s(o->pid);
	secs = drive(&ld, o, fds);
	c1 = cpu_s(o->pid);
	valid = strcmp(o->mode, "echo") == 0 ? ld.nrep : verify(&ld, o, codes);
	for (int c = 1; c < 256; c++)
		if (codes[c] > codes[top])
			top = c;
	printf("mode=%s ops=%zu answered=%zu valid=%zu lost=%zu stalls=%zu "
	       "secs=%.3f rate=%.0f cpu_pct=%.1f cpu_ns_per_req=%.0f "
	       "top_code=%d top_code_n=%u\n",
	       o->mode, o->ops, ld.nrep, valid, o->ops - ld.nrep, ld.stalls,
	       secs, secs > 0 ? (double)valid / secs : 0,
	       secs > 0 && o->pid > 0 ? 100.0 * (c1 - c0) / secs : 0,
	       valid && o->pid > 0 ? (c1 - c0) * 1e9 / (double)valid : 0, top,
	       codes[top]);
	for (unsigned i = 0; i < o->socks; i++)
		close(fds[i]);
	free(ld.req);
	free(ld.req_len);
	free(ld.rep);
	free(ld.rep_len);
	return 0;
}

/* ---- the reference ---- */

struct dgram {
	uint8_t buf[2048];
	struct sockaddr_in from;
	struct iovec iov;
	union {
		char c[CMSG_SPACE(sizeof(struct in_pktinfo)) + 64];
		struct cmsghdr align;
	} in, out;
};

static uint32_t pktinfo_dst(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			return pi.ipi_spec_dst.s_addr;
		}
	return 0;
}

static void reply_hdr(struct dgram *d, struct msghdr *out, uint32_t dst,
		      size_t len)
{
	struct in_pktinfo pi = {.ipi_spec_dst.s_addr = dst};
	struct cmsghdr *c;

	d->iov = (struct iovec){d->buf, len};
	*out = (struct msghdr){.msg_name = &d->from,
			       .msg_namelen = sizeof(d->from),
			       .msg_iov = &d->iov,
			       .msg_iovlen = 1,
			       .msg_control = d->out.c,
			       .msg_controllen =
				   CMSG_SPACE(sizeof(struct in_pktinfo))};
	c = CMSG_FIRSTHDR(out);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
}

static void in_hdr(struct dgram *d, struct msghdr *mh)
{
	d->iov = (struct iovec){d->buf, sizeof(d->buf)};
	*mh = (struct msghdr){.msg_name = &d->from,
			      .msg_namelen = sizeof(d->from),
			      .msg_iov = &d->iov,
			      .msg_iovlen = 1,
			      .msg_control = d->in.c,
			      .msg_controllen = sizeof(d->in.c)};
}

static void reflect_batch(int fd, struct dgram *d, unsigned batch)
{
	struct mmsghdr in[BATCH], out[BATCH];
	int n;

	for (unsigned j = 0; j < batch; j++)
		in_hdr(&d[j], &in[j].msg_hdr);
	n = recvmmsg(fd, in, batch, MSG_DONTWAIT, NULL);
	for (int j = 0; j < n; j++)
		reply_hdr(&d[j], &out[j].msg_hdr, pktinfo_dst(&in[j].msg_hdr),
			  in[j].msg_len);
	if (n > 0)
		(void)sendmmsg(fd, out, (unsigned)n, 0);
}

static void reflect_one_by_one(int fd, struct dgram *d)
{
	for (int j = 0; j < BATCH; j++) {
		struct msghdr in, out;
		ssize_t n;

		in_hdr(d, &in);
		if ((n = recvmsg(fd, &in, MSG_DONTWAIT)) < 0)
			return;
		reply_hdr(d, &out, pktinfo_dst(&in), (size_t)n);
		(void)sendmsg(fd, &out, 0);
	}
}

static _Noreturn void reflect(const struct opts *o)
{
	static struct dgram d[BATCH];
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(o->port)};
	struct epoll_event ev = {.events = EPOLLIN};
	int one = 1, ep = epoll_create1(EPOLL_CLOEXEC),
	    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || ep < 0 || o->batch < 1 || o->batch > BATCH)
		die("reflect: socket, epoll or -b 1..64");
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("reflect: bind");
	for (;;) {
		/* mipd's event loop waits the same way, then reads one batch */
		if (epoll_wait(ep, &ev, 1, -1) < 0 && errno != EINTR)
			die("epoll_wait");
		if (o->batch == 1)
			reflect_one_by_one(fd, d);
		else
			reflect_batch(fd, d, o->batch);
	}
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: ha_load setup DIR N\n"
		"       ha_load run -d DIR -n N -a HA [-p PORT] [-o OPS] "
		"[-m seq|random|echo] [-w WIN] [-s SOCKS] [-P PID]\n"
		"       ha_load reflect [-p PORT] [-b BATCH]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = {.mode = "random",
			 .win = 128,
			 .socks = 4,
			 .port = MIP4_PORT,
			 .batch = BATCH};
	struct in_addr a;
	int ch;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "setup") == 0) {
		if (argc != 4)
			usage();
		return setup(argv[2], strtoul(argv[3], NULL, 10));
	}
	optind = 2;
	while ((ch = getopt(argc, argv, "d:n:a:p:o:m:w:s:P:b:")) != -1) {
		switch (ch) {
		case 'd':
			o.dir = optarg;
			break;
		case 'n':
			o.n = strtoul(optarg, NULL, 10);
			break;
		case 'a':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				usage();
			o.ha = a.s_addr;
			break;
		case 'p':
			o.port = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 'o':
			o.ops = strtoul(optarg, NULL, 10);
			break;
		case 'm':
			o.mode = optarg;
			break;
		case 'w':
			o.win = strtoul(optarg, NULL, 10);
			break;
		case 's':
			o.socks = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'P':
			o.pid = strtol(optarg, NULL, 10);
			break;
		case 'b':
			o.batch = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (strcmp(argv[1], "reflect") == 0)
		reflect(&o);
	if (strcmp(argv[1], "run") != 0)
		usage();
	if (strcmp(o.mode, "seq") && strcmp(o.mode, "random") &&
	    strcmp(o.mode, "echo"))
		usage();
	if (!o.ops)
		o.ops = o.n;
	return run(&o);
}
