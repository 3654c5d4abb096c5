/*
 * dns_impl - the DNS module's private parts, shared by dns.c (queries,
 * the resolver state, names) and dns_answer.c (reading a reply). Nothing
 * outside common/dns*.c includes this header; everyone else uses dns.h.
 */
#ifndef POSTERN_DNS_IMPL_H
#define POSTERN_DNS_IMPL_H

#include <arpa/nameser.h>

#include "strbuf.h"

#define NAME_BUF NS_MAXDNAME	/* dn_expand output, escapes included */

/* --- dns.c --- */

__attribute__((format(printf, 2, 3)))
void dns_note(struct strbuf *log, const char *fmt, ...);
const char *dns_canon_name(const char *in, char *out);

#endif
