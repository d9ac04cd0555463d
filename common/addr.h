/* addr.h - one IPv4/IPv6 address type for the whole suite. */
#ifndef COMMON_ADDR_H
#define COMMON_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define IPADDR_STRLEN INET6_ADDRSTRLEN

struct ipaddr {
	int family; /* AF_INET, AF_INET6, or AF_UNSPEC when unset */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t b[16];
	};
};

/* Parses "10.1.2.3" or "fd00::1"; 0 on success, -1 otherwise. */
int ipaddr_parse(struct ipaddr *a, const char *s);
/* Parses "10.1.0.0/16"; a bare address gets the full-length prefix. */
int ipprefix_parse(struct ipaddr *a, unsigned *plen, const char *s);
/* Writes into buf (IPADDR_STRLEN bytes) and returns it; "-" when unset. */
const char *ipaddr_str(const struct ipaddr *a, char *buf);
bool ipaddr_eq(const struct ipaddr *a, const struct ipaddr *b);
size_t ipaddr_len(const struct ipaddr *a); /* 4, 16 or 0 */
void ipaddr_from_v4(struct ipaddr *a, uint32_t be);
/* sockaddr conversion; port in host order. */
socklen_t ipaddr_to_sockaddr(const struct ipaddr *a, uint16_t port,
			     struct sockaddr_storage *ss);
int ipaddr_from_sockaddr(struct ipaddr *a, uint16_t *port,
			 const struct sockaddr *sa, socklen_t len);

#endif
