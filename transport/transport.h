/* SPDX-License-Identifier: MIT */
/*
 * transport.h - UDP sockets, packet buffers and fault injection.  This
 * layer knows nothing of calls: it moves datagrams and owns buffers.
 */
#ifndef RXS_TRANSPORT_H
#define RXS_TRANSPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "transport/wire.h"

/* Room for the largest datagram we accept, plus one byte to see oversize. */
#define RXS_RX_BUFSIZE (RXS_MAX_PACKET_SIZE + 64)
/* A transmit buffer: header, 1412 payload bytes, slack for security. */
#define RXS_TX_PAYLOAD 1412
#define RXS_TX_BUFSIZE (RXS_HEADER_SIZE + RXS_TX_PAYLOAD + 36)

union rxs_addr {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

/*
 * A received packet.  After splitting, one buffer holds one DATA
 * sub-packet: @data_off/@data_len locate its payload in @buf.
 */
struct rxs_rxpkt {
	struct rxs_rxpkt *next; /* pool free list, held queues */
	union rxs_addr from;
	socklen_t fromlen;
	uint32_t len;           /* datagram length */
	uint16_t data_off;
	uint16_t data_len;
	uint16_t cksum;         /* header checksum (security) */
	uint32_t seq;
	uint32_t serial;
	uint8_t flags;
	/* crypt DATA is decrypted in recv (conn_security.c, recv.c) */
	uint8_t sealed;         /* user bytes from @opened on: ciphertext */
	uint16_t opened;        /* user bytes decrypted so far */
	uint8_t chain[8];       /* PCBC chaining value at @opened */
	uint64_t release_at;    /* fault injection: delayed until */
	uint8_t buf[RXS_RX_BUFSIZE];
};

/* A packet to transmit (DATA), kept until hard-ACKed. */
struct rxs_txpkt {
	struct rxs_txpkt *next;
	uint32_t seq;
	uint16_t data_len;      /* user bytes (after the security header) */
	uint16_t wire_len;      /* payload bytes on the wire, once sealed */
	uint8_t flags;          /* LAST_PACKET etc. decided by the sender */
	uint8_t acked;          /* soft-ACKed by the peer */
	uint8_t nsent;          /* transmissions so far */
	uint8_t lost;           /* marked for retransmission */
	uint8_t sealed;         /* sealed by the sender's thread already */
	uint32_t last_serial;   /* serial of the latest transmission */
	uint64_t sent_at;       /* time of the latest transmission, us */
	uint8_t jhdr[RXS_JUMBO_HDRLEN]; /* jumbo header when not first */
	uint8_t buf[RXS_TX_BUFSIZE];
};

/*
 * Receive pool: used by the I/O thread only.  Grows in chunks up to
 * @max buffers during warm-up; buffers are then recycled, so steady
 * state does not allocate.
 */
struct rxs_rxpool {
	struct rxs_rxpkt *free;
	unsigned int nfree;
	unsigned int total;
	unsigned int max;
	void **chunks;
	unsigned int nchunks;
};

/* Transmit pool: user threads take, the I/O thread returns; one mutex. */
struct rxs_txpool {
	pthread_mutex_t lock;
	struct rxs_txpkt *free;
	unsigned int total;
	unsigned int max;
	void **chunks;
	unsigned int nchunks;
};

/* pkt_pool.c */
int rxs_rxpool_init(struct rxs_rxpool *pool, unsigned int max);
void rxs_rxpool_destroy(struct rxs_rxpool *pool);
struct rxs_rxpkt *rxs_rxpkt_alloc(struct rxs_rxpool *pool);
void rxs_rxpkt_free(struct rxs_rxpool *pool, struct rxs_rxpkt *pkt);
int rxs_txpool_init(struct rxs_txpool *pool, unsigned int max);
void rxs_txpool_destroy(struct rxs_txpool *pool);
struct rxs_txpkt *rxs_txpkt_alloc(struct rxs_txpool *pool);
void rxs_txpkt_free_list(struct rxs_txpool *pool, struct rxs_txpkt *head,
			 struct rxs_txpkt *tail);

/* udp.c */
int rxs_udp_open(const union rxs_addr *local, socklen_t len, int *fdp);
int rxs_udp_local(int fd, union rxs_addr *addr, socklen_t *len);
bool rxs_addr_equal(const union rxs_addr *a, const union rxs_addr *b);
uint32_t rxs_addr_hash(const union rxs_addr *a);
socklen_t rxs_addr_len(const union rxs_addr *a);

/*
 * Fault injection for tests (fault.c): off unless RXSVC_FAULT is set in
 * the environment when the endpoint opens, e.g.
 *   RXSVC_FAULT="drop=5,dup=2,reorder=5,delay=20,seed=7"
 * percentages per received datagram (drop also applies to sent ones with
 * "txdrop=N"); delay is in milliseconds, for "delay_pct=N" of packets.
 */
struct rxs_fault {
	bool on;
	unsigned int drop, dup, reorder, delay_pct, delay_ms, txdrop;
	unsigned int flip; /* % of DATA: one bit of the first 8 payload bytes */
	unsigned int badnonce; /* client: answer CHALLENGEs with nonce + 1 */
	uint64_t state;
};
void rxs_fault_init(struct rxs_fault *f, const char *spec);
/* A number in [0, 100) from the seeded generator. */
unsigned int rxs_fault_roll(struct rxs_fault *f);

#endif /* RXS_TRANSPORT_H */
