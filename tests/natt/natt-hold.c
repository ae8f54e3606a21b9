/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * natt-hold: the UDP socket an IKE daemon holds for ESP in UDP, for the
 * Linux peer of tests/natt. The kernel decapsulates ESP-in-UDP (RFC 3948)
 * only on a UDP socket with UDP_ENCAP set: without one, a datagram to
 * port 4500 is plain UDP (or an ICMP port unreachable). Built on the host
 * at test time, statically, and put into the guest's initramfs.
 *
 *   natt-hold [-p PORT] [-k ADDR:PORT] [-i SECONDS] [-s ADDR:PORT]
 *
 * Binds 0.0.0.0:PORT (4500), sets UDP_ENCAP_ESPINUDP, reads it back and
 * prints "holding udp 0.0.0.0:PORT encap espinudp". With -s, sends one
 * datagram from that socket (the non-ESP marker, four zero bytes, then
 * "natt-probe"). With -k, sends a NAT keepalive (one byte, 0xFF; RFC 3948
 * section 2.3) to ADDR:PORT every -i seconds (default 20, as IKE
 * daemons). What the kernel hands the socket (only datagrams that start
 * with the non-ESP marker: ESP goes to xfrm, keepalives are dropped) is
 * printed as "rx FROM:PORT LEN". Runs until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_ENCAP
#define UDP_ENCAP 100
#endif
#ifndef UDP_ENCAP_ESPINUDP
#define UDP_ENCAP_ESPINUDP 2
#endif

static int
parse_addr(const char *s, struct sockaddr_in *sa)
{
	char buf[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, colon - s);
	buf[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(colon + 1));
	return inet_pton(AF_INET, buf, &sa->sin_addr) == 1 ? 0 : -1;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static const char probe[] = "\0\0\0\0natt-probe";
	struct sockaddr_in me = { .sin_family = AF_INET }, ka, to;
	int fd, opt, port = 4500, encap = UDP_ENCAP_ESPINUDP, got = 0;
	int keepalive = 0, interval = 20, send_probe = 0;
	socklen_t len = sizeof(got);
	double next = 0;

	while ((opt = getopt(argc, argv, "p:k:i:s:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'k':
			if (parse_addr(optarg, &ka) < 0)
				goto usage;
			keepalive = 1;
			break;
		case 'i': interval = atoi(optarg); break;
		case 's':
			if (parse_addr(optarg, &to) < 0)
				goto usage;
			send_probe = 1;
			break;
		default: goto usage;
		}
	}
	if (interval <= 0)
		goto usage;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	me.sin_port = htons(port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		fprintf(stderr, "natt-hold: udp port %d: %s\n", port,
			strerror(errno));
		return 1;
	}
	if (setsockopt(fd, SOL_UDP, UDP_ENCAP, &encap, sizeof(encap)) < 0 ||
	    getsockopt(fd, SOL_UDP, UDP_ENCAP, &got, &len) < 0 ||
	    got != encap) {
		fprintf(stderr, "natt-hold: UDP_ENCAP: %s (read back %d)\n",
			strerror(errno), got);
		return 1;
	}
	printf("holding udp 0.0.0.0:%d encap espinudp\n", port);
	if (send_probe && sendto(fd, probe, sizeof(probe) - 1, 0,
				 (struct sockaddr *)&to, sizeof(to)) < 0)
		printf("probe: %s\n", strerror(errno));
	else if (send_probe)
		printf("probe sent to %s:%d\n", inet_ntoa(to.sin_addr),
		       ntohs(to.sin_port));
	fflush(stdout);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int wait_ms = -1;
		char buf[2048];
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n;

		if (keepalive) {
			double t = now();

			if (t >= next) {
				if (sendto(fd, "\xff", 1, 0,
					   (struct sockaddr *)&ka,
					   sizeof(ka)) < 0)
					printf("keepalive: %s\n",
					       strerror(errno));
				fflush(stdout);
				next = t + interval;
			}
			wait_ms = (int)((next - t) * 1000) + 1;
		}
		if (poll(&p, 1, wait_ms) <= 0)
			continue;
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			     &flen);
		if (n >= 0)
			printf("rx %s:%d %zd\n", inet_ntoa(from.sin_addr),
			       ntohs(from.sin_port), n);
		fflush(stdout);
	}
usage:
	fprintf(stderr, "usage: natt-hold [-p PORT] [-k ADDR:PORT] [-i "
			"SECONDS] [-s ADDR:PORT]\n");
	return 2;
}
