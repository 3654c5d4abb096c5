/*
 * check_address - unit tests of common/address.c (envelope address syntax).
 *
 * Table-driven: each row is an input (with an explicit length when it
 * holds NUL bytes), parse options, and either the canonical text and
 * flags expected or a substring of the reason. The cases follow the
 * envelope-address table of doc research section 4.1.1. Every input is
 * copied into a buffer of exactly its length so that ASan sees any read
 * past the end; valid addresses are also fed one prefix at a time and a
 * seeded stream of random inputs checks that a canonical form always
 * parses back to itself.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"

/* Repeated-character string literals for the length limits. */
#define X2(c) c c
#define X4(c) X2(X2(c))
#define X8(c) X2(X4(c))
#define X16(c) X2(X8(c))
#define X32(c) X2(X16(c))
#define X64(c) X2(X32(c))
#define X60(c) X32(c) X16(c) X8(c) X4(c)
#define X61(c) X60(c) c
#define X62(c) X60(c) X2(c)
#define X63(c) X32(c) X16(c) X8(c) X4(c) X2(c) c

#define L63 X63("b")
#define D189 L63 "." L63 "." X61("c")		/* 189 octets */
#define D190 L63 "." L63 "." X62("c")		/* 190 octets */
#define D255 L63 "." L63 "." L63 "." L63	/* 255 octets */
#define D256 L63 "." L63 "." L63 "." X62("b") ".b"	/* 256 octets */

#define Q ADDRESS_QUOTED
#define U ADDRESS_UTF8
#define LIT ADDRESS_LITERAL
#define ANG ADDRESS_ALLOW_ANGLE
#define BARE ADDRESS_ALLOW_BARE
#define NUL_OK ADDRESS_ALLOW_NULL

struct acase {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	unsigned options;
	int ok;
	const char *expect;	/* canonical text, or a reason substring */
	unsigned flags;
};

static const struct acase cases[] = {
	/* Ordinary addresses: local case kept, domain lowered. */
	{ "user@example.com", 0, 0, 1, "user@example.com", 0 },
	{ "User.Name+tag@Example.COM", 0, 0, 1,
	  "User.Name+tag@example.com", 0 },
	{ "POSTMASTER@LOCALHOST", 0, 0, 1, "POSTMASTER@localhost", 0 },
	{ "a@b-c.d", 0, 0, 1, "a@b-c.d", 0 },
	{ "a@123.example", 0, 0, 1, "a@123.example", 0 },
	{ "user@xn--bcher-kva.example", 0, 0, 1,
	  "user@xn--bcher-kva.example", 0 },
	/* Quoted local parts. */
	{ "\"a b\"@example.com", 0, 0, 1, "\"a b\"@example.com", Q },
	{ "\"john..doe\"@example.com", 0, 0, 1, "\"john..doe\"@example.com",
	  Q },
	{ "\"a\\\"b\"@x", 0, 0, 1, "\"a\\\"b\"@x", Q },
	{ "\"a\\\\b\"@x", 0, 0, 1, "\"a\\\\b\"@x", Q },
	{ "\"abc\"@x", 0, 0, 1, "abc@x", 0 },
	{ "\"a\"@X.Y", 0, 0, 1, "a@x.y", 0 },
	{ "\"a\\bc\"@x", 0, 0, 1, "abc@x", 0 },
	{ "\"a\\ b\"@x", 0, 0, 1, "\"a b\"@x", Q },
	{ "\"user@evil.example\"@localhost", 0, 0, 1,
	  "\"user@evil.example\"@localhost", Q },
	{ "\"\"@x", 0, 0, 0, "empty local part", 0 },
	{ "\"\"@localhost", 0, 0, 0, "empty local part", 0 },
	{ "\"abc@x", 0, 0, 0, "unbalanced quotes", 0 },
	{ "\"a\\", 0, BARE, 0, "unbalanced quotes", 0 },
	{ "\"abc\"def@x", 0, 0, 0, "unexpected text after quoted", 0 },
	{ "\"a\\\xc3\xa9\"@x", 0, 0, 0, "invalid quoted pair", 0 },
	/* Dot-string rules. */
	{ "a..b@x", 0, 0, 0, "two dots in a row", 0 },
	{ ".john@x", 0, 0, 0, "starts with a dot", 0 },
	{ "john.@x", 0, 0, 0, "ends with a dot", 0 },
	{ "a\"b@x", 0, 0, 0, "invalid character in local part", 0 },
	{ "a b@x", 0, 0, 0, "invalid character in local part", 0 },
	{ "@example.com", 0, 0, 0, "empty local part", 0 },
	/* Local parts that look dangerous but are syntax (qmail rule 1). */
	{ "|/bin/sh@localhost", 0, 0, 1, "|/bin/sh@localhost", 0 },
	{ "/etc/passwd@localhost", 0, 0, 1, "/etc/passwd@localhost", 0 },
	{ "user%evil.example@localhost", 0, 0, 1,
	  "user%evil.example@localhost", 0 },
	{ "evil.example!user@localhost", 0, 0, 1,
	  "evil.example!user@localhost", 0 },
	{ "`id`@x", 0, 0, 1, "`id`@x", 0 },
	{ "$(id)@x", 0, 0, 0, "invalid character in local part", 0 },
	{ ":include:/etc/shadow@localhost", 0, 0, 0, "invalid character", 0 },
	/* Domains. */
	{ "user@example.com.", 0, 0, 1, "user@example.com", 0 },
	{ "user@example.com..", 0, 0, 0, "empty label", 0 },
	{ "user@.example", 0, 0, 0, "empty label", 0 },
	{ "user@a..b", 0, 0, 0, "empty label", 0 },
	{ "user@.", 0, 0, 0, "empty domain", 0 },
	{ "user@", 0, 0, 0, "empty domain", 0 },
	{ "user@-bad.example", 0, 0, 0, "hyphen", 0 },
	{ "user@bad-.example", 0, 0, 0, "hyphen", 0 },
	{ "user@exa_mple.com", 0, 0, 0, "invalid character in domain", 0 },
	{ "user@example.com@x", 0, 0, 0, "invalid character in domain", 0 },
	{ "user@1.2.3.4", 0, 0, 0, "all digits", 0 },
	{ "user@123", 0, 0, 0, "all digits", 0 },
	/* Address literals. */
	{ "user@[127.0.0.1]", 0, 0, 1, "user@[127.0.0.1]", LIT },
	{ "user@[IPv6:::1]", 0, 0, 1, "user@[IPv6:::1]", LIT },
	{ "user@[IPv6:2001:db8::1]", 0, 0, 1, "user@[IPv6:2001:db8::1]", LIT },
	{ "user@[ipv6:2001:DB8:0:0:0:0:0:1]", 0, 0, 1,
	  "user@[IPv6:2001:db8::1]", LIT },
	{ "User@[IPv6:::FFFF:192.0.2.1]", 0, 0, 1,
	  "User@[IPv6:::ffff:192.0.2.1]", LIT },
	{ "user@[300.1.1.1]", 0, 0, 0, "invalid IPv4", 0 },
	{ "user@[]", 0, 0, 0, "invalid IPv4", 0 },
	{ "user@[IPv6:zz]", 0, 0, 0, "invalid IPv6", 0 },
	{ "user@[IPv6:1.2.3.4]", 0, 0, 0, "invalid IPv6", 0 },
	{ "user@[foo", 0, 0, 0, "unbalanced brackets", 0 },
	{ "wietse@[\"stuff]", 0, 0, 0, "invalid IPv4", 0 },
	{ "user@[tag:stuff]", 0, 0, 0, "general address literals", 0 },
	{ "user@[1.2.3.4]x", 0, 0, 0, "text after domain literal", 0 },
	{ "user@[1.2.3.4].", 0, 0, 0, "text after domain literal", 0 },
	/* Length limits (the domain ones need the whole-address limit too:
	   a 255-octet domain parses but can never fit in 254 octets). */
	{ X64("a") "@x", 0, 0, 1, X64("a") "@x", 0 },
	{ X64("a") "a@x", 0, 0, 0, "local part is longer than 64", 0 },
	{ "\"" X64("a") "\"@x", 0, 0, 1, X64("a") "@x", 0 },
	{ "\"a " X60("c") "\"@x", 0, 0, 1, "\"a " X60("c") "\"@x", Q },
	{ "\"a " X60("c") "d\"@x", 0, 0, 0, "local part is longer than 64",
	  0 },
	{ "\"" X60("c") "\\\\\"@x", 0, 0, 1, "\"" X60("c") "\\\\\"@x", Q },
	{ "\"" X61("c") "\\\\\"@x", 0, 0, 0, "local part is longer", 0 },
	{ "a@" L63 ".com", 0, 0, 1, "a@" L63 ".com", 0 },
	{ "a@" L63 "b.com", 0, 0, 0, "label is longer than 63", 0 },
	{ "a@" D255, 0, 0, 0, "address is longer than 254", 0 },
	{ "a@" D255 ".", 0, 0, 0, "address is longer than 254", 0 },
	{ "a@" D256, 0, 0, 0, "domain is longer than 255", 0 },
	{ X64("a") "@" D189, 0, 0, 1, X64("a") "@" D189, 0 },
	{ X64("a") "@" D190, 0, 0, 0, "address is longer than 254", 0 },
	/* UTF-8 (RFC 6531). */
	{ "j\xc3\xb6ran@example.com", 0, 0, 1, "j\xc3\xb6ran@example.com", U },
	{ "用户@例子.广告", 0, 0, 1, "用户@例子.广告", U },
	{ "user@B\xc3\xbc" "CHER.Example.", 0, 0, 1,
	  "user@b\xc3\xbc" "cher.example", U },
	{ "user@\xc3\x9c.example", 0, 0, 1, "user@\xc3\x9c.example", U },
	{ "\"j\xc3\xb6 ran\"@x", 0, 0, 1, "\"j\xc3\xb6 ran\"@x", Q | U },
	{ "\"\xf0\x9f\x93\xa7\"@x", 0, 0, 1, "\xf0\x9f\x93\xa7@x", U },
	{ "\xc0\xaf@x", 0, 0, 0, "invalid UTF-8 in local part", 0 },
	{ "a\x80z@x", 0, 0, 0, "invalid UTF-8 in local part", 0 },
	{ "a\xed\xa0\x80@x", 0, 0, 0, "invalid UTF-8 in local part", 0 },
	{ "a\xf4\x90\x80\x80@x", 0, 0, 0, "invalid UTF-8 in local part", 0 },
	{ "a\xc3@x", 0, 0, 0, "invalid UTF-8 in local part", 0 },
	{ "\"a\xe0\x80\xaf\"@x", 0, 0, 0, "invalid UTF-8 in local part", 0 },
	{ "a@b\xff.com", 0, 0, 0, "invalid UTF-8 in domain", 0 },
	{ "a\xc2\x85z@x", 0, 0, 0, "control character", 0 },
	/* Control characters, quoted or not. */
	{ "\"a\rb\"@x", 0, 0, 0, "control character", 0 },
	{ "\"a\nb\"@x", 0, 0, 0, "control character", 0 },
	{ "\"a\0b\"@x", 8, 0, 0, "control character", 0 },
	{ "a\0@x", 4, 0, 0, "control character", 0 },
	{ "a@x\0", 4, 0, 0, "control character", 0 },
	{ "a\tb@x", 0, 0, 0, "control character", 0 },
	{ "\"a\tb\"@x", 0, 0, 0, "control character", 0 },
	{ "a\x7f@x", 0, 0, 0, "control character", 0 },
	{ "a@b\r\nRCPT TO:<c@d>", 0, ANG, 0, "control character", 0 },
	/* Source routes. */
	{ "@a.example,@b.example:user@c.example", 0, 0, 0, "source route", 0 },
	{ "<@a.example:user@c.example>", 0, ANG, 0, "source route", 0 },
	/* The null sender. */
	{ "<>", 0, 0, 0, "null sender is not allowed", 0 },
	{ "<>", 0, ANG, 0, "null sender is not allowed", 0 },
	{ "<>", 0, NUL_OK, 1, "", ADDRESS_NULL },
	{ "", 0, NUL_OK, 1, "", ADDRESS_NULL },
	{ "", 0, 0, 0, "empty address", 0 },
	{ "<", 0, NUL_OK | ANG, 0, "unbalanced angle", 0 },
	/* Bare local parts. */
	{ "root", 0, 0, 0, "no @domain", 0 },
	{ "root", 0, BARE, 1, "root", ADDRESS_NODOMAIN },
	{ "\"a b\"", 0, BARE, 1, "\"a b\"", Q | ADDRESS_NODOMAIN },
	{ "<root>", 0, BARE | ANG, 1, "root", ADDRESS_NODOMAIN },
	/* Angle brackets. */
	{ "<user@example.com>", 0, 0, 0, "angle brackets are not allowed", 0 },
	{ "<user@Example.com>", 0, ANG, 1, "user@example.com", 0 },
	{ "<user@example.com", 0, ANG, 0, "unbalanced angle", 0 },
	{ "user@example.com>", 0, ANG, 0, "unbalanced angle", 0 },
	{ "<<user@example.com>>", 0, ANG, 0, "invalid character", 0 },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* dup_exact - the bytes in a buffer of exactly their length */
static char *dup_exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, s, len);
	return p;
}

/* reparse - a canonical form parses back to itself with the same flags */
static void reparse(const struct address *a)
{
	struct address b;
	const char *why = NULL;
	size_t len = strlen(a->text);
	char *in = dup_exact(a->text, len);

	ck_assert_msg(address_parse(in, len, NUL_OK | BARE, &b, &why) == 0,
	    "canonical \"%s\" refused: %s", a->text, why);
	ck_assert_str_eq(b.text, a->text);
	ck_assert_uint_eq(b.flags, a->flags);
	ck_assert_uint_eq(b.local_len, a->local_len);
	free(in);
}

START_TEST(test_table)
{
	const struct acase *c = &cases[_i];
	size_t len = c->len ? c->len : strlen(c->in);
	char *in = dup_exact(c->in, len);
	struct address a, untouched;
	const char *why = NULL;
	int r;

	memset(&a, 0x5a, sizeof(a));
	untouched = a;
	r = address_parse(in, len, c->options, &a, &why);
	if (c->ok) {
		ck_assert_msg(r == 0, "case %d refused: %s", _i, why);
		ck_assert_str_eq(a.text, c->expect);
		ck_assert_msg(a.flags == c->flags, "case %d flags %#x, want "
		    "%#x", _i, a.flags, c->flags);
		ck_assert_uint_le(strlen(a.text), ADDRESS_MAX);
		ck_assert_uint_le(a.local_len, ADDRESS_LOCAL_MAX);
		reparse(&a);
	} else {
		ck_assert_msg(r == -1, "case %d accepted as \"%s\"", _i,
		    a.text);
		ck_assert_ptr_nonnull(why);
		ck_assert_msg(strstr(why, c->expect) != NULL,
		    "case %d: reason \"%s\", want \"%s\"", _i, why, c->expect);
		ck_assert(memcmp(&a, &untouched, sizeof(a)) == 0);
	}
	free(in);
}
END_TEST

/* The test's own long strings have the lengths their names say. */
START_TEST(test_lengths)
{
	ck_assert_uint_eq(strlen(L63), 63);
	ck_assert_uint_eq(strlen(D189), 189);
	ck_assert_uint_eq(strlen(D190), 190);
	ck_assert_uint_eq(strlen(D255), 255);
	ck_assert_uint_eq(strlen(D256), 256);
	ck_assert_uint_eq(strlen(X64("a")), 64);
	ck_assert_uint_eq(strlen("\"a " X60("c") "\""), 64);
	ck_assert_uint_eq(strlen("\"" X60("c") "\\\\\""), 64);
}
END_TEST

static const struct {
	const char *in;
	const char *domain;
} domains[] = {
	{ "user@Example.COM", "example.com" },
	{ "\"a@b\"@x", "x" },
	{ "u@[IPv6:::1]", "[IPv6:::1]" },
	{ "root", "" },
	{ "<>", "" },
};

START_TEST(test_domain)
{
	struct address a;
	const char *why = NULL;
	const char *in = domains[_i].in;

	ck_assert_int_eq(address_parse(in, strlen(in), NUL_OK | BARE, &a,
	    &why), 0);
	ck_assert_str_eq(address_domain(&a), domains[_i].domain);
}
END_TEST

static const struct {
	const char *local;	/* parsed with ALLOW_BARE and ALLOW_NULL */
	const char *domain;
	int ok;
	const char *expect;	/* text, or reason substring */
	unsigned flags;
} setdomains[] = {
	{ "root", "Example.COM.", 1, "root@example.com", 0 },
	{ "\"a b\"", "x", 1, "\"a b\"@x", Q },
	{ "root", "[IPv6:::1]", 1, "root@[IPv6:::1]", LIT },
	{ "root", "b\xc3\xbc" "cher.example", 1, "root@b\xc3\xbc" "cher.example",
	  U },
	{ "root@x", "y", 0, "already has a domain", 0 },
	{ "<>", "x", 0, "null sender takes no domain", 0 },
	{ "root", "-x", 0, "hyphen", 0 },
	{ "root", "", 0, "empty domain", 0 },
	{ "root", "x\ny", 0, "control character", 0 },
	{ "root", "1.2.3.4", 0, "all digits", 0 },
	{ X64("a"), D189, 1, X64("a") "@" D189, 0 },
	{ X64("a"), D190, 0, "address is longer than 254", 0 },
};

START_TEST(test_set_domain)
{
	struct address a, before;
	const char *why = NULL;
	const char *in = setdomains[_i].local;
	int r;

	ck_assert_int_eq(address_parse(in, strlen(in), BARE | NUL_OK, &a,
	    &why), 0);
	before = a;
	r = address_set_domain(&a, setdomains[_i].domain, &why);
	if (setdomains[_i].ok) {
		ck_assert_msg(r == 0, "refused: %s", why);
		ck_assert_str_eq(a.text, setdomains[_i].expect);
		ck_assert_uint_eq(a.flags, setdomains[_i].flags);
		ck_assert_uint_eq(a.local_len, before.local_len);
		reparse(&a);
	} else {
		ck_assert_int_eq(r, -1);
		ck_assert_msg(strstr(why, setdomains[_i].expect) != NULL,
		    "reason \"%s\"", why);
		ck_assert(memcmp(&a, &before, sizeof(a)) == 0);
	}
}
END_TEST

static const struct {
	const char *s;
	size_t len;
	int valid;
} utf8[] = {
	{ "", 0, 1 },
	{ "plain ascii", 0, 1 },
	{ "\x00", 1, 1 },				/* NUL is valid UTF-8 */
	{ "\xc2\x80", 0, 1 },				/* U+0080 */
	{ "\xdf\xbf", 0, 1 },				/* U+07FF */
	{ "\xe0\xa0\x80", 0, 1 },			/* U+0800 */
	{ "\xed\x9f\xbf", 0, 1 },			/* U+D7FF */
	{ "\xee\x80\x80", 0, 1 },			/* U+E000 */
	{ "\xef\xbf\xbf", 0, 1 },			/* U+FFFF */
	{ "\xf0\x90\x80\x80", 0, 1 },			/* U+10000 */
	{ "\xf4\x8f\xbf\xbf", 0, 1 },			/* U+10FFFF */
	{ "\xc0\xaf", 0, 0 },				/* overlong '/' */
	{ "\xc1\xbf", 0, 0 },				/* overlong */
	{ "\xe0\x80\xaf", 0, 0 },			/* overlong */
	{ "\xf0\x80\x80\xaf", 0, 0 },			/* overlong */
	{ "\xed\xa0\x80", 0, 0 },			/* surrogate D800 */
	{ "\xed\xbf\xbf", 0, 0 },			/* surrogate DFFF */
	{ "\xf4\x90\x80\x80", 0, 0 },			/* U+110000 */
	{ "\xf5\x80\x80\x80", 0, 0 },
	{ "\xff", 0, 0 },
	{ "\x80", 0, 0 },				/* lone continuation */
	{ "\xc3", 0, 0 },				/* truncated */
	{ "\xe2\x82", 0, 0 },				/* truncated */
	{ "\xe2\x28\xa1", 0, 0 },			/* bad continuation */
	{ "a\xc3\xa9z", 0, 1 },
};

START_TEST(test_utf8)
{
	size_t len = utf8[_i].len ? utf8[_i].len : strlen(utf8[_i].s);
	char *s = dup_exact(utf8[_i].s, len);

	ck_assert_int_eq(address_utf8_valid(s, len), utf8[_i].valid);
	free(s);
}
END_TEST

static const char *const prefix_inputs[] = {
	"user@example.com",
	"<\"a\\\"b c\"@[IPv6:2001:db8::1]>",
	("j\xc3\xb6ran@b\xc3\xbc" "cher.example."),
	"<@a.example,@b.example:user@[192.0.2.1]>",
	"\"\xf0\x9f\x93\xa7\\\\\"@Example.COM",
};

/* Every prefix of a valid address, with every option set: no crash, no
   read past the end, and a consistent result when one is accepted. */
START_TEST(test_prefixes)
{
	const char *full = prefix_inputs[_i];
	size_t n, len = strlen(full);
	unsigned opt;

	for (opt = 0; opt < 8; opt++) {
		for (n = 0; n <= len; n++) {
			char *in = dup_exact(full, n);
			struct address a;
			const char *why = NULL;

			if (address_parse(in, n, opt, &a, &why) == 0) {
				ck_assert_uint_le(a.local_len, ADDRESS_LOCAL_MAX);
				ck_assert_ptr_nonnull(memchr(a.text, '\0',
				    sizeof(a.text)));
				reparse(&a);
			} else {
				ck_assert_ptr_nonnull(why);
			}
			free(in);
		}
	}
}
END_TEST

/* Seeded random inputs from an alphabet of the bytes that matter. */
/* next hops: the forms routes_file and relayhost allow, and what not */
START_TEST(test_nexthop)
{
	static const struct { const char *in, *host; unsigned port; int mx; }
	    good[] = {
		{ "mx.example.org", "mx.example.org", 0, 1 },
		{ "mx.example.org:2525", "mx.example.org", 2525, 1 },
		{ "[smtp.example.net]", "smtp.example.net", 0, 0 },
		{ "[smtp.example.net]:587", "smtp.example.net", 587, 0 },
		{ "[192.0.2.1]:25", "192.0.2.1", 25, 0 },
		{ "[2001:db8::1]", "2001:db8::1", 0, 0 },
	};
	static const char *const bad[] = { "", "[]", "[x", "[x]y", "x:",
	    "x:0", "x:65536", "x:2a", ":25", "a b", "a;b", "[a b]",
	    "x:+25" };
	struct nexthop nh;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(address_nexthop_parse(good[i].in, &nh) == 0, "%s",
		    good[i].in);
		ck_assert_str_eq(nh.host, good[i].host);
		ck_assert_uint_eq(nh.port, good[i].port);
		ck_assert_int_eq(nh.mx, good[i].mx);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(address_nexthop_parse(bad[i], &nh) < 0,
		    "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(test_random)
{
	static const char alphabet[] = "aZ9.@\"\\<>[]:,-_ !|\xc3\xa9\x80\xed"
	    "\xa0\xf0\x9f\r\n\t";
	uint32_t seed = 12345;
	char buf[300];
	int round;

	for (round = 0; round < 20000; round++) {
		size_t i, n;
		struct address a;
		const char *why = NULL;
		char *in;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % sizeof(buf);
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		in = dup_exact(buf, n);
		if (address_parse(in, n, (seed >> 8) & 7, &a, &why) == 0)
			reparse(&a);
		else
			ck_assert_ptr_nonnull(why);
		free(in);
	}
}
END_TEST

/* address_suite - the address module's tests */
static Suite *address_suite(void)
{
	Suite *s = suite_create("address");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_table, 0, (int)NCASES);
	tcase_add_test(tc, test_lengths);
	tcase_add_loop_test(tc, test_domain, 0,
	    (int)(sizeof(domains) / sizeof(domains[0])));
	tcase_add_loop_test(tc, test_set_domain, 0,
	    (int)(sizeof(setdomains) / sizeof(setdomains[0])));
	tcase_add_loop_test(tc, test_utf8, 0,
	    (int)(sizeof(utf8) / sizeof(utf8[0])));
	tcase_add_loop_test(tc, test_prefixes, 0,
	    (int)(sizeof(prefix_inputs) / sizeof(prefix_inputs[0])));
	tcase_add_test(tc, test_random);
	tcase_add_test(tc, test_nexthop);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(address_suite());
	int number_failed;

	srunner_run_all(sr, CK_NORMAL);
	number_failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return number_failed != 0;
}
