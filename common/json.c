/*
 * json - JSON string escaping (see json.h).
 */
#include <string.h>

#include "json.h"
#include "strbuf.h"

/* utf8_len - length of the valid UTF-8 sequence at s (n bytes left), or 0 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* U+2028 and U+2029 are valid JSON but break JavaScript readers. */
	if (cp == 0x2028 || cp == 0x2029)
		return 0;
	return len;
}

/* json_string - quoted, escaped JSON string */
int json_string(struct strbuf *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	strbuf_appendc(out, '"');
	while (i < len) {
		unsigned char c = u[i];

		/* Most text is plain ASCII: copy each run of it in one go,
		   which is most of the cost of a JSON listing. */
		for (n = i; n < len && u[n] >= 0x20 && u[n] < 0x7f &&
		    u[n] != '"' && u[n] != '\\'; n++)
			;
		if (n > i) {
			strbuf_append(out, u + i, n - i);
			i = n;
			continue;
		}
		if (c == '"' || c == '\\') {
			strbuf_appendc(out, '\\');
			strbuf_appendc(out, c);
		} else if (c == '\n') {
			strbuf_append(out, "\\n", 2);
		} else if (c == '\r') {
			strbuf_append(out, "\\r", 2);
		} else if (c == '\t') {
			strbuf_append(out, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_appendf(out, "\\u%04x", c);
		} else if ((n = utf8_len(u + i, len - i)) == 0) {
			strbuf_append(out, "\\ufffd", 6);
		} else {
			strbuf_append(out, u + i, n);
			i += n;
			continue;
		}
		i++;
	}
	strbuf_appendc(out, '"');
	return strbuf_ok(out) ? 0 : -1;
}

/* json_key_string - "key":"value" */
int json_key_string(struct strbuf *out, const char *key, const char *value)
{
	json_string(out, key, strlen(key));
	strbuf_appendc(out, ':');
	return json_string(out, value, strlen(value));
}

/* json_key_int - "key":number */
int json_key_int(struct strbuf *out, const char *key, int64_t v)
{
	json_string(out, key, strlen(key));
	return strbuf_appendf(out, ":%lld", (long long)v);
}
