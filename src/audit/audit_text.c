/*
 * Check output in the audit log: jansson refuses a string that is not valid
 * UTF-8, which used to lose the whole `output` field; this makes any bytes
 * valid, and cuts only between characters.
 */
#include <string.h>

#include "vipd/audit.h"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (at most `avail` bytes), 0 when
 * invalid, or -1 when it is a valid start cut short by the end of input. */
static int utf8_sequence(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	int len;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	/* RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF. */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= avail)
			return -1;
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xBF))
			return 0;
	}
	return len;
}

size_t audit_utf8_sanitize(const char *s, char *out, size_t outcap)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t avail = strlen(s), o = 0;

	if (outcap == 0)
		return 0;
	while (avail > 0) {
		int n = utf8_sequence(in, avail);
		const char *piece = (const char *)in;
		size_t plen = (size_t)n;

		if (n < 0)
			break; /* cut mid-character by the capture limit */
		if (n == 0) {
			piece = replacement;
			plen = sizeof(replacement) - 1;
			n = 1;
		}
		if (o + plen > outcap - 1)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
		in += n;
		avail -= (size_t)n;
	}
	out[o] = '\0';
	return o;
}

json_t *audit_text(const char *s)
{
	char clean[AUDIT_TEXT_MAX + 1];

	audit_utf8_sanitize(s ? s : "", clean, sizeof(clean));
	return json_string(clean);
}
