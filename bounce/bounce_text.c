/*
 * bounce_text - the part of a notice that people read: for each
 * recipient, in plain words, what happened and what the sender can do,
 * the server's reply quoted as it came, then the transcripts of the last
 * delivery attempts. Also the line tools the composer shares: cleaning
 * (btext_clean), wrapping prose and folding fields (btext_wrap), and
 * cutting verbatim lines at 998 octets (btext_lines).
 *
 * Called by bounce_compose.c. Recipients with the same explanation, the
 * same status, the same diagnostic and the same domain share one
 * paragraph.
 *
 * Trust: diagnostics, transcripts, the subject and the original
 * recipients come from servers and messages. Every byte of them passes
 * btext_clean, so the part holds no control character but TAB and LF and
 * no byte >= 0x80 that is not valid UTF-8; nothing of them is ever used
 * as a format. The explanations are this file's own words.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "bounce.h"
#include "config.h"
#include "strbuf.h"
#include "timeutil.h"

#define TEXT_TMP_MAX (1u << 20)	/* one paragraph or transcript */

/* ---- line tools ---- */

/* btext_has8 - any byte >= 0x80 */
int btext_has8(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* utf8_len - the length of the valid UTF-8 character at s, or 0; the C1
   controls U+0080-U+009F count as invalid (they act on terminals) */
static size_t utf8_len(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	size_t k = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
	    c >= 0xf0 && c <= 0xf4 ? 4 : 0;

	if (k == 0 || k > n || !address_utf8_valid(s, k))
		return 0;
	if (c == 0xc2 && (unsigned char)s[1] < 0xa0)
		return 0;
	return k;
}

/* btext_clean - append with control bytes and bad 8-bit bytes escaped */
int btext_clean(struct strbuf *out, const char *s, size_t n, int utf8)
{
	size_t i = 0, k;
	unsigned char c;

	while (i < n) {
		c = (unsigned char)s[i];
		if (c == '\r' && i + 1 < n && s[i + 1] == '\n') {
			i++;
		} else if (c == '\t' || c == '\n' || (c >= 0x20 && c < 0x7f)) {
			strbuf_appendc(out, c);
			i++;
		} else if (c >= 0x80 && utf8 && (k = utf8_len(s + i, n - i))) {
			strbuf_append(out, s + i, k);
			i += k;
		} else {
			strbuf_appendf(out, "\\x%02x", c);
			i++;
		}
	}
	return strbuf_ok(out) ? 0 : -1;
}

/* cols - display columns of n bytes of UTF-8 (continuation bytes take
   none) */
static size_t cols(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

/* utf8_cut - k moved back so that it does not split a character */
static size_t utf8_cut(const char *s, size_t k)
{
	size_t b = k;

	while (b > 0 && k - b < 3 && ((unsigned char)s[b] & 0xc0) == 0x80)
		b--;
	return b > 0 ? b : k;
}

/* put_word - append a word to the line, cutting it at the octet limit;
   *col and *bytes describe the line */
static void put_word(struct strbuf *out, const char *s, size_t n,
    const char *indent, size_t *col, size_t *bytes)
{
	size_t k, ilen = strlen(indent);

	while (*bytes + n > BOUNCE_LINE_MAX) {
		k = utf8_cut(s, BOUNCE_LINE_MAX - *bytes);
		strbuf_append(out, s, k);
		strbuf_appendc(out, '\n');
		strbuf_append(out, indent, ilen);
		*col = *bytes = ilen;
		s += k;
		n -= k;
	}
	strbuf_append(out, s, n);
	*col += cols(s, n);
	*bytes += n;
}

/* btext_wrap - one paragraph, wrapped at spaces */
int btext_wrap(struct strbuf *out, const char *first, const char *indent,
    const char *s, size_t n, size_t width)
{
	size_t i = 0, j, w, col, bytes, ilen = strlen(indent);
	int fresh = 1;

	strbuf_appends(out, first);
	col = bytes = strlen(first);
	for (;;) {
		for (j = i; j < n && s[j] != ' '; j++)
			;
		w = j - i;
		if (!fresh && (col + 1 + cols(s + i, w) > width ||
		    bytes + 1 + w > BOUNCE_LINE_MAX)) {
			strbuf_appendc(out, '\n');
			strbuf_append(out, indent, ilen);
			col = bytes = ilen;
		} else if (!fresh) {
			strbuf_appendc(out, ' ');
			col++;
			bytes++;
		}
		put_word(out, s + i, w, indent, &col, &bytes);
		fresh = 0;
		if (j >= n)
			break;
		i = j + 1;
	}
	strbuf_appendc(out, '\n');
	return strbuf_ok(out) ? 0 : -1;
}

/* btext_lines - verbatim lines, indented, cut at the octet limit */
long btext_lines(struct strbuf *out, const char *s, size_t n,
    const char *indent, const char *cont)
{
	size_t ilen = strlen(indent), clen = strlen(cont), len, room, k;
	const char *e;
	long cuts = 0;

	while (n > 0) {
		e = memchr(s, '\n', n);
		len = e ? (size_t)(e - s) : n;
		strbuf_append(out, indent, ilen);
		room = BOUNCE_LINE_MAX - ilen;
		for (k = 0; len - k > room; cuts++) {
			size_t c = utf8_cut(s + k, room);

			strbuf_append(out, s + k, c);
			strbuf_appendc(out, '\n');
			strbuf_append(out, indent, ilen);
			strbuf_append(out, cont, clen);
			room = BOUNCE_LINE_MAX - ilen - clen;
			k += c;
		}
		strbuf_append(out, s + k, len - k);
		strbuf_appendc(out, '\n');
		if (e == NULL)
			break;
		n -= len + 1;
		s = e + 1;
	}
	return strbuf_ok(out) ? cuts : -1;
}

/* ---- choosing the explanation ---- */

/* code_is - status s ends in ".detail", for "X.detail" */
static int code_is(const char *s, const char *detail)
{
	return strcmp(s + 2, detail) == 0;
}

/* bounce_class - the explanation for recipient r */
enum bclass bounce_class(const struct brcpt *r)
{
	const char *st = r->status, *reply;
	char host[256];
	size_t rn;
	int remote = bounce_remote_host(r->relay, host, sizeof(host));
	int is_reply = bounce_smtp_reply(r->diag, &reply, &rn);

	if (r->action == BA_DELAYED)
		return BC_DELAYED;
	if (r->action == BA_DELIVERED)
		return BC_DELIVERED;
	if (r->action == BA_RELAYED)
		return BC_RELAYED;
	if (strcmp(r->relay, "local") == 0 && bounce_is_command(r))
		return BC_PROGRAM;
	if (code_is(st, "4.6") || (code_is(st, "4.0") &&
	    strstr(r->diag, "loop") != NULL))
		return BC_LOOP;
	if (!strcmp(st, "4.7.4") || !strcmp(st, "4.7.5") ||
	    !strcmp(st, "5.7.10"))
		return BC_TLS;
	if (code_is(st, "2.2"))
		return BC_FULL;
	if (code_is(st, "3.4") || code_is(st, "2.3") ||
	    (is_reply && strncmp(reply, "552", 3) == 0))
		return BC_TOO_LARGE;
	if (code_is(st, "1.2"))
		return BC_NO_DOMAIN;
	if (code_is(st, "1.10"))
		return BC_NULL_MX;
	/* Retries that ran out: unreachable servers for mail that goes
	   out (a server, or a routing or DNS status), else a local
	   problem that lasted: a full disk or postern's own reason. */
	if (st[0] == '4' && (remote || strncmp(st + 1, ".4.", 3) == 0))
		return BC_EXPIRED;
	if (st[0] == '4')
		return code_is(st, "3.1") ? BC_FULL : BC_GENERIC_LOCAL;
	if (strstr(r->diag, "(in reply to MAIL FROM command)") != NULL)
		return BC_SENDER;
	if (!remote && code_is(st, "1.1"))
		return BC_LOCAL_USER;
	if (remote && strncmp(st + 1, ".1.", 3) == 0)
		return BC_REMOTE_USER;
	return remote ? BC_GENERIC : BC_GENERIC_LOCAL;
}

/*
 * The explanations. In a template, {name} is a value (domain, me,
 * sender, tried, attempts, until) and {one|many} picks the words for one
 * recipient or several.
 */
static const char *const explain[] = {
	[BC_LOCAL_USER] = "There {is no mailbox for this address|are no "
	    "mailboxes for these addresses} on {me}: the {account does not "
	    "exist or has|accounts do not exist or have} been closed. Check "
	    "the {address|addresses} for typing mistakes and send the "
	    "message again. If {it is|they are} right, {this person no "
	    "longer receives|these people no longer receive} mail here; "
	    "reach them another way and ask for a current address.",
	[BC_REMOTE_USER] = "The mail server of {domain} answered that {this "
	    "mailbox does|these mailboxes do} not exist there. Check the "
	    "{address|addresses} for typing mistakes and send the message "
	    "again. If {it is|they are} right, the {mailbox may have|"
	    "mailboxes may have} been closed; reach the {person|people} "
	    "another way and ask for a current address.",
	[BC_SENDER] = "The mail server of {domain} refused to take any mail "
	    "from your address, {sender}, so it never looked at the "
	    "{recipient|recipients}. Its reply below gives the reason: it "
	    "may distrust your mail provider, the settings of your domain, "
	    "or your address itself. Show this message to your postmaster "
	    "or mail provider; the {recipient|recipients} can also ask "
	    "their own administrators to accept your mail.",
	[BC_NO_DOMAIN] = "The domain {domain} does not exist, so nothing "
	    "can be delivered to any address there. This is most often a "
	    "typing mistake in the part after the \"@\". Check the "
	    "{address|addresses} and send the message again.",
	[BC_NULL_MX] = "The domain {domain} exists, but it has declared that "
	    "it accepts no mail at all, so no address there can receive "
	    "your message. Reach the {recipient|recipients} another way and "
	    "ask for an address that works.",
	[BC_EXPIRED] = "No mail server of {domain} could be reached, or "
	    "none would take the message, for as long as this mail system "
	    "keeps trying: it tried for {tried}, with {attempts}, and has "
	    "now given up. The servers may be down or out of reach, or the "
	    "domain may be set up wrongly. You can send the message again "
	    "later, or reach the {recipient|recipients} another way.",
	[BC_TOO_LARGE] = "Your message is larger than the receiving mail "
	    "server accepts. Send it again without the large attachment, "
	    "make the file smaller (compress it, or lower the quality of "
	    "pictures and videos), or share it through a link to a "
	    "file-sharing service instead.",
	[BC_FULL] = "The {recipient's mailbox is|recipients' mailboxes are} "
	    "full and cannot take more mail. Old messages have to be "
	    "deleted first. Let the {recipient|recipients} know another "
	    "way, and send the message again later.",
	[BC_LOOP] = "The message was caught in a loop: it came back to a "
	    "mail system it had already passed through, so it was stopped "
	    "before it could go round for ever. This comes from a "
	    "forwarding setting on the recipient's side, for example two "
	    "addresses that forward to each other. Tell the "
	    "{recipient|recipients} or their postmaster; sending the "
	    "message again will not help until the setting is fixed.",
	[BC_TLS] = "Mail to {domain} must travel encrypted, but its mail "
	    "server could not set up a secure connection that this mail "
	    "system accepts, so the message was held back rather than sent "
	    "unprotected. The administrators of {domain} need to fix the "
	    "encryption (TLS) set-up of their server; the postmaster of "
	    "{me} can tell you more about this requirement.",
	[BC_PROGRAM] = "Mail for {this address|these addresses} is handed to "
	    "a program on {me}, and that program refused your message or "
	    "failed while handling it. Its answer is quoted below. Let the "
	    "{recipient|recipients} or the postmaster of {me} know; if the "
	    "answer points at something in your message, change that and "
	    "send it again.",
	[BC_GENERIC] = "The mail server of {domain} refused the message. Its "
	    "reply below says why. If it is not clear what to change, "
	    "reach the {recipient|recipients} another way, or show this "
	    "message to your postmaster.",
	[BC_GENERIC_LOCAL] = "The mail system at {me} could not deliver the "
	    "message; the reason is below. If it is not clear what to "
	    "change, show this message to the postmaster of {me}.",
	[BC_DELAYED] = "Your message has not been delivered to {this "
	    "address|these addresses} yet. The mail system keeps trying "
	    "{until}, and you need not send the message again: if it gets "
	    "through, you will hear nothing more; if it still fails by "
	    "then, you will get another notice.",
	[BC_DELIVERED] = "Your message was delivered to the {recipient's "
	    "mailbox|recipients' mailboxes}.",
	[BC_RELAYED] = "Your message was handed to the mail server of "
	    "{domain}. That server does not send delivery reports of its "
	    "own, so this is the last news you will get about it.",
};

/* The state of one text part being written. */
struct tctx {
	const struct bjob *j;
	const char *me;
	struct strbuf *out;
	struct strbuf tmp;		/* one paragraph at a time */
	long cuts;			/* verbatim lines cut at 998 octets */
};

/* domain_of - the part after the last '@' */
static const char *domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : addr;
}

/* put_duration - "5 days and 2 hours", "3 hours and 10 minutes" */
static void put_duration(struct strbuf *sb, int64_t us)
{
	int64_t m = us > 0 ? us / 60000000 : 0, big, small;
	const char *bu, *su;

	if (m == 0) {
		strbuf_appends(sb, "less than a minute");
		return;
	}
	if (m >= 2 * 1440) {
		big = m / 1440, small = m % 1440 / 60, bu = "day", su = "hour";
	} else if (m >= 60) {
		big = m / 60, small = m % 60, bu = "hour", su = "minute";
	} else {
		big = m, small = 0, bu = "minute", su = "";
	}
	strbuf_appendf(sb, "%" PRId64 " %s%s", big, bu, big == 1 ? "" : "s");
	if (small > 0)
		strbuf_appendf(sb, " and %" PRId64 " %s%s", small, su,
		    small == 1 ? "" : "s");
}

/* put_var - the value of {name} for recipient r */
static void put_var(struct tctx *c, const char *name, size_t n,
    const struct brcpt *r)
{
	const struct bjob *j = c->j;
	char date[TIMEUTIL_BUF];

	if (n == 6 && memcmp(name, "domain", 6) == 0)
		btext_clean(&c->tmp, domain_of(r->addr),
		    strlen(domain_of(r->addr)), 1);
	else if (n == 2 && memcmp(name, "me", 2) == 0)
		strbuf_appends(&c->tmp, c->me);
	else if (n == 6 && memcmp(name, "sender", 6) == 0) {
		strbuf_appendc(&c->tmp, '<');
		btext_clean(&c->tmp, j->sender, strlen(j->sender), 1);
		strbuf_appendc(&c->tmp, '>');
	} else if (n == 5 && memcmp(name, "tried", 5) == 0)
		put_duration(&c->tmp, (r->last ? r->last : timeutil_now()) -
		    j->arrival);
	else if (n == 8 && memcmp(name, "attempts", 8) == 0)
		strbuf_appendf(&c->tmp, "%" PRIu64 " delivery attempt%s",
		    r->attempts, r->attempts == 1 ? "" : "s");
	else if (n == 5 && memcmp(name, "until", 5) == 0 && r->until) {
		timeutil_rfc5322(r->until, date);
		strbuf_appendf(&c->tmp, "until %s", date);
	} else if (n == 5 && memcmp(name, "until", 5) == 0)
		strbuf_appends(&c->tmp, "for some time yet");
}

/* expand - a template into c->tmp for the group led by r */
static void expand(struct tctx *c, const char *t, const struct brcpt *r,
    int many)
{
	const char *e, *bar;

	while (*t) {
		if (*t != '{' || (e = strchr(t, '}')) == NULL) {
			strbuf_appendc(&c->tmp, *t++);
			continue;
		}
		bar = memchr(t, '|', (size_t)(e - t));
		if (bar == NULL)
			put_var(c, t + 1, (size_t)(e - t - 1), r);
		else if (many)
			strbuf_append(&c->tmp, bar + 1, (size_t)(e - bar - 1));
		else
			strbuf_append(&c->tmp, t + 1, (size_t)(bar - t - 1));
		t = e + 1;
	}
}

/* verbatim - c->tmp as verbatim lines indented by four spaces, then
   empty it */
static void verbatim(struct tctx *c)
{
	long k = btext_lines(c->out, strbuf_str(&c->tmp), c->tmp.len, "    ",
	    "  ");

	if (k > 0)
		c->cuts += k;
	strbuf_reset(&c->tmp);
}

/* para - c->tmp as a wrapped paragraph, then empty it */
static void para(struct tctx *c, const char *indent)
{
	btext_wrap(c->out, indent, indent, strbuf_str(&c->tmp), c->tmp.len,
	    BOUNCE_WIDTH);
	strbuf_reset(&c->tmp);
}

/* same_group - recipients a and b get one paragraph (the explanation
   depends on nothing but the fields compared here) */
static int same_group(const struct brcpt *a, const struct brcpt *b)
{
	return a->action == b->action && strcmp(a->status, b->status) == 0 &&
	    strcmp(a->diag, b->diag) == 0 &&
	    strcmp(a->relay, b->relay) == 0 &&
	    strcmp(domain_of(a->addr), domain_of(b->addr)) == 0 &&
	    a->attempts == b->attempts && a->last == b->last &&
	    a->until == b->until;
}

/* put_addr - "<addr>" or "<addr> (originally <orig>)" into c->tmp */
static void put_addr(struct tctx *c, const struct brcpt *r)
{
	strbuf_appendc(&c->tmp, '<');
	btext_clean(&c->tmp, r->addr, strlen(r->addr), 1);
	strbuf_appendc(&c->tmp, '>');
	if (r->orig && strcmp(r->orig, r->addr) != 0) {
		strbuf_appends(&c->tmp, " (originally <");
		btext_clean(&c->tmp, r->orig, strlen(r->orig), 1);
		strbuf_appends(&c->tmp, ">)");
	}
}

/* put_diag - the server's reply, quoted as it came (only cut at 998
   octets), or postern's own note */
static void put_diag(struct tctx *c, const struct brcpt *r)
{
	char host[256];
	const char *p;
	size_t n;

	if (*r->diag == '\0')
		return;
	if (bounce_smtp_reply(r->diag, &p, &n) &&
	    bounce_remote_host(r->relay, host, sizeof(host))) {
		const char *cmd = strstr(r->diag, " (in reply to "), *e;

		strbuf_appends(c->out, "The server ");
		btext_clean(c->out, host, strlen(host), 1);
		/* which command it refused: with pipelining the transcript
		   alone does not say */
		if (cmd != NULL && (e = strstr(cmd, " command)")) != NULL) {
			strbuf_appends(c->out, " answered the ");
			btext_clean(c->out, cmd + 14, (size_t)(e - cmd - 14), 1);
			strbuf_appends(c->out, " command:\n");
		} else {
			strbuf_appends(c->out, " answered:\n");
		}
		btext_clean(&c->tmp, p, n, 1);
		verbatim(c);
		return;
	}
	/* postern's own words are prose: wrapped like the rest */
	strbuf_appends(c->out, "Details:\n");
	btext_clean(&c->tmp, r->diag, strlen(r->diag), 1);
	para(c, "    ");
}

/* group - the paragraph of recipient i and every later one like it */
static void group(struct tctx *c, size_t i)
{
	const struct bjob *j = c->j;
	const struct brcpt *r = &j->rcpts[i];
	enum bclass k = bounce_class(r);
	size_t m, many = 0;

	for (m = i; m < j->n; m++)
		if (same_group(r, &j->rcpts[m])) {
			strbuf_appends(&c->tmp, many++ ? ", " : "");
			put_addr(c, &j->rcpts[m]);
		}
	strbuf_appends(&c->tmp, ":");
	btext_wrap(c->out, many > 1 ? "Recipients " : "Recipient ", "    ",
	    strbuf_str(&c->tmp), c->tmp.len, BOUNCE_WIDTH);
	strbuf_reset(&c->tmp);
	expand(c, explain[k], r, many > 1);
	if (r->action == BA_FAILED && r->status[0] == '4' && k != BC_EXPIRED)
		expand(c, " This mail system tried for {tried}, with "
		    "{attempts}, before it gave up.", r, many > 1);
	para(c, "");
	if (*r->diag)
		strbuf_appendc(c->out, '\n');
	put_diag(c, r);
	strbuf_appendc(c->out, '\n');
}

/* intro - who writes, and about what */
static void intro(struct tctx *c)
{
	const struct bjob *j = c->j;
	char date[TIMEUTIL_BUF];

	strbuf_appendf(c->out, "This is the mail system at %s.\n\n", c->me);
	if (j->dbl)
		strbuf_appends(&c->tmp, "This notice is for the postmaster. "
		    "The message below could not be delivered, and as it was "
		    "itself a delivery notice, there is no sender to return it "
		    "to.");
	else if (j->kind == BK_FAILURE)
		strbuf_appends(&c->tmp, "Your message could not be delivered "
		    "to one or more recipients. Each is listed below with "
		    "what went wrong and what you can do.");
	else if (j->kind == BK_DELAY)
		strbuf_appends(&c->tmp, "This is only a warning: your message "
		    "has not been delivered yet, and the mail system is still "
		    "trying. You need not do anything now.");
	else
		strbuf_appends(&c->tmp, "Here is the delivery report you asked "
		    "for when you sent your message.");
	para(c, "");
	strbuf_appends(c->out, "\n");
	strbuf_appends(c->out, j->dbl ? "The message:\n" : "Your message:\n");
	if (j->subject) {
		btext_clean(&c->tmp, j->subject, strlen(j->subject), 1);
		btext_wrap(c->out, "    Subject:   ", "               ",
		    strbuf_str(&c->tmp), c->tmp.len, BOUNCE_WIDTH);
		strbuf_reset(&c->tmp);
	}
	strbuf_appends(c->out, "    From:      <");
	btext_clean(c->out, j->sender, strlen(j->sender), 1);
	timeutil_rfc5322(j->arrival, date);
	strbuf_appendf(c->out, ">\n    Received:  %s\n    Queue ID:  %s\n\n",
	    date, j->id);
}

/* attached - what the third part holds, said once */
static void attached(struct tctx *c, enum battach a)
{
	static const char *const says[] = {
		[BATT_FULL] = "A copy of your message is attached.",
		[BATT_HDRS_RET] = "Only the header of your message is attached, "
		    "as was asked when it was sent.",
		[BATT_HDRS_SIZE] = "Your message is too large to be returned "
		    "whole, so only its header is attached.",
		[BATT_HDRS_LINES] = "Your message has lines too long to be "
		    "returned whole, so only its header is attached.",
		[BATT_HDRS_KIND] = "The header of your message is attached for "
		    "reference.",
	};

	strbuf_appends(&c->tmp, says[a]);
	para(c, "");
	strbuf_appendc(c->out, '\n');
}

/* transcripts - each transcript once, labelled with its recipients */
static void transcripts(struct tctx *c)
{
	const struct bjob *j = c->j;
	size_t i, m, n;

	for (i = 0; i < j->n; i++) {
		if (j->rcpts[i].xs == NULL)
			continue;
		strbuf_appends(&c->tmp, "Transcript of the last delivery "
		    "attempt for ");
		for (m = i, n = 0; m < j->n; m++)
			if (bounce_xs_owner(j, m) == i) {
				strbuf_appends(&c->tmp, n++ ? ", <" : "<");
				btext_clean(&c->tmp, j->rcpts[m].addr,
				    strlen(j->rcpts[m].addr), 1);
				strbuf_appendc(&c->tmp, '>');
			}
		strbuf_appendc(&c->tmp, ':');
		para(c, "");
		strbuf_appendc(c->out, '\n');
		btext_clean(&c->tmp, j->rcpts[i].xs, j->rcpts[i].xs_len, 1);
		verbatim(c);
		strbuf_appendc(c->out, '\n');
	}
}

/* bounce_text - the whole text/plain part */
int bounce_text(const struct bjob *j, const struct config *cfg,
    enum battach attach, struct strbuf *out)
{
	struct tctx c = { j, config_str(cfg, CK_myhostname), out,
	    STRBUF_INIT(TEXT_TMP_MAX), 0 };
	size_t i, m;
	int ok;

	intro(&c);
	for (i = 0; i < j->n; i++) {
		for (m = 0; m < i && !same_group(&j->rcpts[m], &j->rcpts[i]);
		    m++)
			;
		if (m == i)
			group(&c, i);
	}
	attached(&c, attach);
	transcripts(&c);
	if (c.cuts > 0) {
		strbuf_appends(&c.tmp, "(Lines above too long for mail were "
		    "cut; each piece after the first is indented by two more "
		    "spaces.)");
		para(&c, "");
	}
	ok = strbuf_ok(out) && strbuf_ok(&c.tmp);
	strbuf_release(&c.tmp);
	return ok ? 0 : -1;
}
