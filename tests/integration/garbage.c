/* SPDX-License-Identifier: MIT */
/*
 * garbage - send a seeded flood of malformed, truncated and random
 * datagrams at an Rx server, for the bad-input integration test.
 *
 *   garbage HOST PORT [COUNT] [SEED]
 *
 * Mixes: random bytes of random length (0..1500), truncated headers,
 * unknown packet types, DATA with seq 0 or callNumber 0, ACKs whose nAcks
 * exceeds the body, short ABORTs, jumbograms that are too short,
 * oversized datagrams, and DATA for new calls on random channels.
 * Prints how many datagrams it sent.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static uint32_t rnd_state;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

static void hdr(uint8_t *b, uint32_t call, uint32_t seq, uint8_t type,
		uint8_t flags, uint16_t service)
{
	uint32_t w[5] = { htonl(0x80001234u), htonl((rnd() & 0xffff) << 2 |
						   (rnd() & 3)),
			  htonl(call), htonl(seq), htonl(rnd() | 1) };

	memcpy(b, w, 20);
	b[20] = type;
	b[21] = flags;
	b[22] = 0;
	b[23] = 0;
	b[24] = 0;
	b[25] = 0;
	b[26] = (uint8_t)(service >> 8);
	b[27] = (uint8_t)service;
}

int main(int argc, char **argv)
{
	static uint8_t b[20000];
	struct sockaddr_in to = { 0 };
	unsigned long count, sent = 0;
	int fd;

	if (argc < 3)
		return 2;
	count = argc > 3 ? strtoul(argv[3], NULL, 10) : 10000;
	rnd_state = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 1;
	to.sin_family = AF_INET;
	to.sin_port = htons((uint16_t)atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &to.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 1;
	for (unsigned long i = 0; i < count; i++) {
		size_t len = 0;

		switch (rnd() % 11) {
		case 0: /* random bytes */
			len = rnd() % 1500;
			for (size_t k = 0; k < len; k++)
				b[k] = (uint8_t)rnd();
			break;
		case 1: /* truncated header */
			len = rnd() % 28;
			for (size_t k = 0; k < len; k++)
				b[k] = (uint8_t)rnd();
			break;
		case 2: /* unknown type */
			hdr(b, 1, 1, (uint8_t)(rnd() % 2 ? 12 : 14 + rnd() % 200),
			    1, 1);
			len = 28 + rnd() % 40;
			break;
		case 3: /* DATA seq 0 */
			hdr(b, 1, 0, 1, 5, 1);
			len = 40;
			break;
		case 4: /* DATA call 0 */
			hdr(b, 0, 1, 1, 5, 1);
			len = 40;
			break;
		case 5: /* ACK with nAcks beyond the body */
			hdr(b, 1, 0, 2, 1, 1);
			memset(b + 28, 0, 18);
			b[28 + 17] = 200;
			len = 28 + 18 + rnd() % 50;
			break;
		case 6: /* short ABORT */
			hdr(b, 1, 0, 4, 1, 1);
			len = 28 + rnd() % 4;
			break;
		case 7: /* jumbogram too short */
			hdr(b, 1, 1, 1, 0x21, 1);
			len = 28 + rnd() % 1400;
			break;
		case 8: /* oversized */
			hdr(b, 1, 1, 1, 5, 1);
			len = 16500 + rnd() % 3000;
			break;
		case 9: /* new call DATA, maybe never finished */
			hdr(b, 1 + rnd() % 3, 1 + rnd() % 3, 1,
			    (uint8_t)(1 | (rnd() % 2 ? 4 : 0)), 1);
			len = 28 + rnd() % 1412;
			break;
		case 10: /* a random header of a known type */
			hdr(b, rnd(), rnd(), (uint8_t)(1 + rnd() % 13),
			    (uint8_t)rnd(), (uint16_t)rnd());
			len = 28 + rnd() % 100;
			break;
		}
		if (sendto(fd, b, len, 0, (struct sockaddr *)&to, sizeof(to)) >= 0)
			sent++;
		if (i % 64 == 63)
			usleep(200); /* a flood, but not a socket overrun */
	}
	printf("sent %lu\n", sent);
	close(fd);
	return 0;
}
