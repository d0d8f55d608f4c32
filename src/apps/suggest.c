/*
 * The nearest known name to a mistyped one (edit distance), so that a typo
 * in a key is named with its fix rather than ignored.
 */
#include <stdint.h>
#include <string.h>

#include "vipd/suggest.h"

size_t suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[SUGGEST_MAX_LEN + 1];

	if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0]; /* the cell above-left */

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

const char *suggest_nearest(const char *typed, const char *const *known)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; known[i]; i++) {
		size_t d = suggest_distance(typed, known[i]);
		size_t limit = strlen(known[i]) / 3;

		if (limit < 2)
			limit = 2;
		if (d <= limit && d < best_d) {
			best = known[i];
			best_d = d;
		}
	}
	return best;
}
