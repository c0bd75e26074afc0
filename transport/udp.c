/* SPDX-License-Identifier: MIT */
/*
 * udp.c - the endpoint's UDP socket: IPv4 or IPv6 (dual-stack when bound
 * to "::"), non-blocking, large buffers (a UDP buffer overrun is the
 * classic Rx server collapse, design.md), and SO_RXQ_OVFL so that kernel
 * drops are counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "transport/transport.h"

socklen_t rxs_addr_len(const union rxs_addr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					     sizeof(struct sockaddr_in);
}

int rxs_udp_open(const union rxs_addr *local, socklen_t len, int *fdp)
{
	int fd, on = 1, off = 0, sz = 8 << 20;

	fd = socket(local->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
					    SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (local->sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	/* Best effort: the kernel caps these at rmem_max/wmem_max. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
	/* ICMP errors (port/host unreachable) end calls promptly. */
	if (local->sa.sa_family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on));
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
	} else {
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
	}
	if (bind(fd, &local->sa, len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

int rxs_udp_local(int fd, union rxs_addr *addr, socklen_t *len)
{
	*len = sizeof(*addr);
	if (getsockname(fd, &addr->sa, len) < 0)
		return -errno;
	return 0;
}

bool rxs_addr_equal(const union rxs_addr *a, const union rxs_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->sin.sin_port == b->sin.sin_port &&
		       a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return a->sin6.sin6_port == b->sin6.sin6_port &&
		       memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, 16) == 0;
	return false;
}

uint32_t rxs_addr_hash(const union rxs_addr *a)
{
	uint32_t h = 2166136261u;
	const uint8_t *p;
	size_t n;

	if (a->sa.sa_family == AF_INET) {
		p = (const uint8_t *)&a->sin.sin_addr;
		n = 4;
		h = (h ^ a->sin.sin_port) * 16777619u;
	} else {
		p = (const uint8_t *)&a->sin6.sin6_addr;
		n = 16;
		h = (h ^ a->sin6.sin6_port) * 16777619u;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}
