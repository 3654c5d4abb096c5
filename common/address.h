/*
 * address - envelope address syntax (RFC 5321 section 4.1.2, RFC 6531).
 *
 * Parses one mailbox ("local@domain") as it appears in an envelope: a
 * command-line recipient, -f sender, a maildrop record, an IPC record.
 * Accepted: dot-atom and quoted-string local parts; domains of LDH labels
 * (each 1-63 octets, no leading or trailing hyphen, not all-numeric as a
 * top label) or address literals [IPv4] and [IPv6:...]; UTF-8 in the
 * local part or the domain only as SMTPUTF8 (the result is flagged
 * ADDRESS_UTF8; the bytes must be valid, shortest-form UTF-8).
 * Refused, with a reason: CR, LF, NUL and every other control character,
 * unbalanced quotes or brackets, empty local part or domain, empty labels
 * (a..b, leading or trailing dot in the local part), over-long parts
 * (local part > 64, domain > 255, address > 254 octets), source routes
 * ("@a,@b:user@c"), general address literals, malformed IP literals.
 *
 * The canonical form keeps the local part's case and quotes it only when
 * it must be quoted (with the fewest backslashes); the domain is lower-
 * cased (ASCII letters only) and a single trailing dot is dropped.
 *
 * Trusts nothing: every input is a byte string of known length.
 */
#ifndef POSTERN_ADDRESS_H
#define POSTERN_ADDRESS_H

#include <stddef.h>

#define ADDRESS_LOCAL_MAX 64
#define ADDRESS_DOMAIN_MAX 255
#define ADDRESS_MAX 254		/* the whole local@domain */
#define ADDRESS_BUF (ADDRESS_MAX + 1)

/* Flags of a parsed address */
#define ADDRESS_UTF8	0x01	/* needs SMTPUTF8 */
#define ADDRESS_QUOTED	0x02	/* local part is a quoted string */
#define ADDRESS_LITERAL	0x04	/* domain is an address literal */
#define ADDRESS_NULL	0x08	/* the null sender <> */
#define ADDRESS_NODOMAIN 0x10	/* no @domain given (ADDRESS_ALLOW_BARE) */

/* Parse options */
#define ADDRESS_ALLOW_NULL	0x01	/* "" and "<>" mean the null sender */
#define ADDRESS_ALLOW_BARE	0x02	/* a local part alone is accepted */
#define ADDRESS_ALLOW_ANGLE	0x04	/* one pair of <> around it is removed */

struct address {
	char text[ADDRESS_BUF];	/* canonical local@domain ("" for null) */
	size_t local_len;	/* length of the local part within text */
	unsigned flags;
};

/* address_parse - parse len bytes at in. 0 on success with *a filled;
   -1 with *reason_r set to a static English phrase ("local part is longer
   than 64 octets") on failure. */
int address_parse(const char *in, size_t len, unsigned options,
    struct address *a, const char **reason_r);
/* address_domain - the domain part of a parsed address ("" if none) */
const char *address_domain(const struct address *a);
/* address_set_domain - append "@domain" to an ADDRESS_NODOMAIN address;
   -1 when the result would be too long or domain is invalid */
int address_set_domain(struct address *a, const char *domain,
    const char **reason_r);
/* address_parse_qualified - address_parse with ADDRESS_ALLOW_BARE added
   to options, then a bare local part completed with "@domain" (how
   sendmail arguments, aliases and .forward entries name local users) */
int address_parse_qualified(const char *in, size_t len, unsigned options,
    const char *domain, struct address *a, const char **reason_r);
/* address_utf8_valid - len bytes are valid, shortest-form UTF-8 with no
   surrogates or code points above U+10FFFF */
int address_utf8_valid(const char *s, size_t len);

/* A next hop, as routes_file and relayhost write it: "[host]" or
   "[host]:port" (used as it is, no MX lookup: a name or an IP address),
   "host" or "host:port" (the MX records of host). Parsed by the queue
   manager (to refuse a bad one), postern-remote and posternctl route. */
#define NEXTHOP_MAX 253		/* a host name's longest */
struct nexthop {
	char host[NEXTHOP_MAX + 1];
	unsigned port;			/* 0: none given */
	int mx;				/* 1: look up MX records of host */
};
/* address_nexthop_parse - s into nh; 0, or -1 when it is not one of the
   forms (a host inside brackets may hold letters, digits, '.', '-' and
   ':', a bare one letters, digits, '.' and '-'; a port is 1-65535) */
int address_nexthop_parse(const char *s, struct nexthop *nh);

#endif
