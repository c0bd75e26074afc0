/* SPDX-License-Identifier: MIT */
/*
 * rtt.c - round-trip time estimation and the retransmission timeout, per
 * peer, as RFC 6298 (which Linux's Rx uses): srtt and rttvar smoothed with
 * gains 1/8 and 1/4, RTO = srtt + 4 * rttvar, floored at 200 ms
 * (design.md "Decisions"), capped at 60 s, 1 s before any sample.
 * Samples come from ACKs quoting the serial of a packet we sent once
 * (Karn's rule: never a retransmitted one) and from PING_RESPONSEs.
 */
#include "rxsvc/internal.h"

#define RTO_MIN_US     200000u
#define RTO_MAX_US     60000000u
#define RTO_INITIAL_US 1000000u

void rxs_rtt_init(struct rxs_peer *peer)
{
	peer->srtt_us = 0;
	peer->rttvar_us = 0;
	peer->rtt_count = 0;
	peer->rto_us = RTO_INITIAL_US;
}

/* Fold one RTT sample (microseconds) into the peer's estimate. */
void rxs_rtt_sample(struct rxs_peer *peer, uint32_t rtt_us)
{
	uint32_t rto;

	if (rtt_us == 0)
		rtt_us = 1;
	if (peer->rtt_count == 0) {
		peer->srtt_us = rtt_us << 3;
		peer->rttvar_us = rtt_us << 1; /* rttvar = rtt / 2, x 4 */
	} else {
		int32_t srtt = (int32_t)(peer->srtt_us >> 3);
		int32_t delta = (int32_t)rtt_us - srtt;
		uint32_t adelta = (uint32_t)(delta < 0 ? -delta : delta);

		/* rttvar = 3/4 rttvar + 1/4 |delta| (scaled by 4) */
		peer->rttvar_us = peer->rttvar_us - (peer->rttvar_us >> 2) +
				  adelta;
		/* srtt = 7/8 srtt + 1/8 rtt (scaled by 8) */
		peer->srtt_us = peer->srtt_us - (peer->srtt_us >> 3) + rtt_us;
	}
	peer->rtt_count++;
	rto = (peer->srtt_us >> 3) + peer->rttvar_us; /* srtt + 4 * rttvar */
	if (rto < RTO_MIN_US)
		rto = RTO_MIN_US;
	if (rto > RTO_MAX_US)
		rto = RTO_MAX_US;
	peer->rto_us = rto;
}

uint32_t rxs_rtt_rto(const struct rxs_peer *peer)
{
	return peer->rto_us;
}

/*
 * Arm a call's retransmission timer after new data or new ACKs: first a
 * tail-loss probe (RACK-TLP, RFC 8985) after two smoothed RTTs plus the
 * peer's delayed-ACK allowance, then the RTO.  Without the probe every
 * loss at the end of a burst waits the 200 ms RTO floor.
 */
uint64_t rxs_call_arm_resend(struct rxsvc_call *call, uint64_t now)
{
	const struct rxs_peer *peer = call->conn->peer;
	uint64_t pto = peer->rtt_count ? 2 * (peer->srtt_us >> 3) + 2000 :
					 rxs_rtt_rto(peer);

	if (pto < rxs_rtt_rto(peer)) {
		call->tlp_pending = true;
		call->t_resend = now + pto;
	} else {
		call->tlp_pending = false;
		call->t_resend = now + rxs_rtt_rto(peer);
	}
	return call->t_resend;
}

/* The next timeout after one expired: doubled, capped. */
uint32_t rxs_rtt_backoff(uint32_t rto_us)
{
	if (rto_us >= RTO_MAX_US / 2)
		return RTO_MAX_US;
	return rto_us * 2;
}
