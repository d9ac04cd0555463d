/*
 * policy.h - the access-mode policy engine (seed 002 section 3.4): events in,
 * actions out, no I/O.  The engine itself arrives with the Mobile IP work;
 * this header fixes the vocabulary both daemons share.
 */
#ifndef POLICY_POLICY_H
#define POLICY_POLICY_H

/* Access modes of seed 002 section 3.1, plus being at home. */
enum access_mode {
	MODE_NONE, /* no usable address */
	MODE_HOME, /* on the home link: plain routing */
	MODE_C,	   /* co-located care-of address from DHCP */
	MODE_F,	   /* foreign-agent care-of address */
	MODE_MC,   /* Mobile IP inside the VPN, TIA as co-located CoA */
};

const char *access_mode_name(enum access_mode m);

#endif
