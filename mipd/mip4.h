/*
 * mip4.h - Mobile IPv4 numbers: RFC 5944 (IP Mobility Support for IPv4,
 * revised) and the RFCs that extend it (RFC 2794 NAI, RFC 3024 reverse
 * tunnelling, RFC 3519 NAT traversal, RFC 1256 router discovery).  Wire
 * values only; no behaviour lives here.  Names follow the IANA "Mobile IPv4
 * Numbers" registry.
 */
#ifndef MIPD_MIP4_H
#define MIPD_MIP4_H

/* RFC 5944 3.1: registration messages go to this UDP port. RFC 3519 5:
 * IP-in-UDP tunnel data uses it too. */
#define MIP4_PORT 434

/* Message types (RFC 5944 3.3, 3.4; RFC 3519 3.3; RFC 3543). */
enum mip4_msg_type {
	MIP4_REG_REQUEST = 1,
	MIP4_REG_REPLY = 3,
	MIP4_TUNNEL_DATA = 4,	  /* RFC 3519 3.3 */
	MIP4_REG_REVOCATION = 7,  /* RFC 3543, not implemented */
	MIP4_REVOCATION_ACK = 15, /* RFC 3543, not implemented */
};

/* Fixed part lengths (RFC 5944 3.3, 3.4), without extensions. */
#define MIP4_RRQ_LEN 24
#define MIP4_RRP_LEN 20

/* Registration Request flags: the byte after Type (RFC 5944 3.3). */
#define MIP4_RRQ_S 0x80 /* simultaneous bindings */
#define MIP4_RRQ_B 0x40 /* broadcast datagrams */
#define MIP4_RRQ_D 0x20 /* decapsulation by mobile node (co-located CoA) */
#define MIP4_RRQ_M 0x10 /* minimal encapsulation */
#define MIP4_RRQ_G 0x08 /* GRE encapsulation */
#define MIP4_RRQ_r 0x04 /* sent as zero, ignored on reception */
#define MIP4_RRQ_T 0x02 /* reverse tunnelling requested (RFC 3024 3.1) */
#define MIP4_RRQ_x 0x01 /* sent as zero, ignored on reception */

/* RFC 5944 3.4: Registration Reply codes. */
enum mip4_reply_code {
	/* Successful */
	MIP4_ACCEPTED = 0,
	MIP4_ACCEPTED_NO_SIMUL = 1, /* simultaneous bindings unsupported */

	/* Denied by the foreign agent */
	MIP4_FA_UNSPECIFIED = 64,
	MIP4_FA_ADMIN_PROHIBITED = 65,
	MIP4_FA_NO_RESOURCES = 66,
	MIP4_FA_MN_AUTH_FAILED = 67,
	MIP4_FA_HA_AUTH_FAILED = 68,
	MIP4_FA_LIFETIME_TOO_LONG = 69,
	MIP4_FA_BAD_REQUEST = 70,
	MIP4_FA_BAD_REPLY = 71,
	MIP4_FA_ENCAP_UNAVAIL = 72,
	MIP4_FA_VJ_UNAVAIL = 73,       /* reserved and unavailable */
	MIP4_FA_REVTUN_UNAVAIL = 74,   /* RFC 3024 4.1 */
	MIP4_FA_REVTUN_MANDATORY = 75, /* RFC 3024 4.1: T bit not set */
	MIP4_FA_TOO_DISTANT = 76,      /* RFC 3024 4.1 */
	MIP4_FA_BAD_COA = 77,
	MIP4_FA_REG_TIMEOUT = 78,
	MIP4_FA_DELIVERY_UNSUPPORTED = 79, /* RFC 3024 4.1 */
	MIP4_FA_HOME_NET_UNREACH = 80,	   /* ICMP error received */
	MIP4_FA_HA_HOST_UNREACH = 81,	   /* ICMP error received */
	MIP4_FA_HA_PORT_UNREACH = 82,	   /* ICMP error received */
	MIP4_FA_HA_UNREACH = 88,	   /* other ICMP error received */
	MIP4_FA_NONZERO_HOMEADDR_REQ = 96, /* RFC 2794 (NAI) */
	MIP4_FA_MISSING_NAI = 97,	   /* RFC 2794 */
	MIP4_FA_MISSING_HA = 98,	   /* RFC 2794 */
	MIP4_FA_MISSING_HOMEADDR = 99,	   /* RFC 2794 */
	MIP4_FA_BAD_HA_ADDR = 194, /* RFC 5944 3.4: invalid HA address */

	/* Denied by the home agent */
	MIP4_HA_UNSPECIFIED = 128,
	MIP4_HA_ADMIN_PROHIBITED = 129,
	MIP4_HA_NO_RESOURCES = 130,
	MIP4_HA_MN_AUTH_FAILED = 131,
	MIP4_HA_FA_AUTH_FAILED = 132,
	MIP4_HA_ID_MISMATCH = 133,
	MIP4_HA_BAD_REQUEST = 134,
	MIP4_HA_TOO_MANY_BINDINGS = 135,
	MIP4_HA_UNKNOWN_HA = 136,
	MIP4_HA_REVTUN_UNAVAIL = 137,	 /* RFC 3024 4.2 */
	MIP4_HA_REVTUN_MANDATORY = 138,	 /* RFC 3024 4.2: T bit not set */
	MIP4_HA_ENCAP_UNAVAIL = 139,	 /* RFC 3024 4.2 */
	MIP4_HA_UDP_ENCAP_UNAVAIL = 142, /* RFC 3519 3.2 */
};

/* RFC 5944 3.4: 0-63 success, 64-127 foreign agent, 128-192 home agent
 * (194 is the one FA code outside its range). */
#define MIP4_CODE_IS_SUCCESS(c) ((c) < 64)

/* Extensions in registration messages (RFC 5944 1.9; IANA "Extensions to
 * Mobile IP Registration Messages").  1.9: an unrecognised type 0-127 makes
 * the whole message be silently discarded; an unrecognised 128-255 is
 * skipped and the rest processed. */
#define MIP4_EXT_SKIPPABLE(t) ((t) >= 128)
enum mip4_ext_type {
	MIP4_EXT_MN_HA_AUTH = 32,      /* RFC 5944 3.5.2 */
	MIP4_EXT_MN_FA_AUTH = 33,      /* RFC 5944 3.5.3 */
	MIP4_EXT_FA_HA_AUTH = 34,      /* RFC 5944 3.5.4 */
	MIP4_EXT_GEN_AUTH = 36,	       /* RFC 3012, long format; not handled */
	MIP4_EXT_UDP_TUN_REP = 44,     /* RFC 3519 3.2 */
	MIP4_EXT_ENCAP_DELIVERY = 130, /* RFC 3024 3.3, FA-only, no body */
	MIP4_EXT_MN_NAI = 131,	       /* RFC 2794 2 */
	MIP4_EXT_UDP_TUN_REQ = 144,    /* RFC 3519 3.1 */
};

/* Extensions in ICMP router discovery messages (RFC 5944 2.1; a separate
 * number space from the one above, same 0-127 / 128-255 rule). */
enum mip4_adv_ext_type {
	MIP4_ADV_EXT_PAD = 0,	      /* one byte, no Length (2.1.3) */
	MIP4_ADV_EXT_MOBILITY = 16,   /* Mobility Agent Advertisement (2.1.1) */
	MIP4_ADV_EXT_PREFIX_LEN = 19, /* Prefix-Lengths (2.1.2) */
};

/* ICMP router discovery (RFC 1256 3; RFC 5944 2.1, 2.2). */
#define MIP4_ICMP_ROUTER_ADV   9
#define MIP4_ICMP_ROUTER_SOL   10
#define MIP4_ADV_CODE_ROUTER   0  /* agent also routes common traffic */
#define MIP4_ADV_CODE_NO_ROUTE 16 /* RFC 5944 2.1: mobility agent only */
#define MIP4_ICMP_HDR_LEN      8
#define MIP4_ADV_ENTRY_WORDS   2 /* RFC 1256 Addr Entry Size */

/* Mobility Agent Advertisement flags, as a 16-bit field (RFC 5944 2.1.1:
 * R B H F M G r T U X I then 5 reserved bits). */
#define MIP4_ADV_R	      0x8000 /* registration with an FA required */
#define MIP4_ADV_B	      0x4000 /* busy */
#define MIP4_ADV_H	      0x2000 /* home agent */
#define MIP4_ADV_F	      0x1000 /* foreign agent */
#define MIP4_ADV_M	      0x0800 /* minimal encapsulation */
#define MIP4_ADV_G	      0x0400 /* GRE encapsulation */
#define MIP4_ADV_r	      0x0200 /* sent as zero, ignored */
#define MIP4_ADV_T	      0x0100 /* reverse tunnelling (RFC 3024 3.3) */
#define MIP4_ADV_U	      0x0080 /* UDP tunnelling (RFC 3519 4.1) */
#define MIP4_ADV_X	      0x0040 /* registration revocation (RFC 3543) */
#define MIP4_ADV_I	      0x0020 /* regional registration (RFC 4857) */
#define MIP4_ADV_MOBILITY_MIN 6	     /* Length without care-of addresses */

/* UDP Tunnel Request extension (RFC 3519 3.1): Length 6. */
#define MIP4_UDP_REQ_LEN 6
#define MIP4_UDP_REQ_F	 0x80 /* force UDP tunnelling */
#define MIP4_UDP_REQ_R	 0x40 /* registration through FA required (adv R) */
/* Encapsulation: the protocol number of the header under the UDP one. */
#define MIP4_ENCAP_IPIP	   4
#define MIP4_ENCAP_GRE	   47
#define MIP4_ENCAP_MINIMAL 55

/* UDP Tunnel Reply extension (RFC 3519 3.2): Length 6. */
#define MIP4_UDP_REP_LEN      6
#define MIP4_UDP_REP_F	      0x8000 /* HA forces UDP tunnelling */
#define MIP4_UDP_REP_ACCEPT   0	     /* reply code: will do tunnelling */
#define MIP4_UDP_REP_DECLINED 64     /* tunnelling declined, no reason */

/* Authentication extensions (RFC 5944 3.5.2-3.5.4): Type, Length, SPI,
 * Authenticator; Length = 4 + authenticator length. */
#define MIP4_AUTH_HDR_LEN 6 /* Type, Length and SPI */
#define MIP4_AUTH_MD5_LEN 16

/* RFC 5944 1.6 ("Security Parameter Index"): SPIs 0-255 are reserved
 * and MUST NOT be used in any mobility security association. */
#define MIP4_SPI_RESERVED_MAX 255

/* RFC 5944 5.7.1: default tolerance for timestamp replay protection. */
#define MIP4_TS_WINDOW_DEFAULT 7

/* Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
#define MIP4_NTP_UNIX_OFFSET 2208988800ULL

#endif
