#include "common/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ipaddr_parse(struct ipaddr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->v4) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a->v6) == 1)
		a->family = AF_INET6;
	else
		return -1;
	return 0;
}

int ipprefix_parse(struct ipaddr *a, unsigned *plen, const char *s)
{
	char tmp[IPADDR_STRLEN + 8], *slash, *end;
	unsigned long n;

	if (strlen(s) >= sizeof(tmp))
		return -1;
	strcpy(tmp, s);
	slash = strchr(tmp, '/');
	if (slash)
		*slash = '\0';
	if (ipaddr_parse(a, tmp) < 0)
		return -1;
	*plen = (unsigned)ipaddr_len(a) * 8;
	if (!slash)
		return 0;
	if (slash[1] < '0' || slash[1] > '9')
		return -1;
	n = strtoul(slash + 1, &end, 10);
	if (*end || n > *plen)
		return -1;
	*plen = (unsigned)n;
	return 0;
}

const char *ipaddr_str(const struct ipaddr *a, char *buf)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		return strcpy(buf, "-");
	return inet_ntop(a->family, a->b, buf, IPADDR_STRLEN)
		   ? buf
		   : strcpy(buf, "?");
}

size_t ipaddr_len(const struct ipaddr *a)
{
	return a->family == AF_INET ? 4 : a->family == AF_INET6 ? 16 : 0;
}

bool ipaddr_eq(const struct ipaddr *a, const struct ipaddr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, ipaddr_len(a)) == 0;
}

void ipaddr_from_v4(struct ipaddr *a, uint32_t be)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->v4.s_addr = be;
}

socklen_t ipaddr_to_sockaddr(const struct ipaddr *a, uint16_t port,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->v4;
		return sizeof(*sin);
	}
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = a->v6;
		return sizeof(*sin6);
	}
	return 0;
}

int ipaddr_from_sockaddr(struct ipaddr *a, uint16_t *port,
			 const struct sockaddr *sa, socklen_t len)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const void *)sa;

		a->family = AF_INET;
		a->v4 = sin->sin_addr;
		if (port)
			*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		a->family = AF_INET6;
		a->v6 = sin6->sin6_addr;
		if (port)
			*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}
