/* Growing, sorting and searching plain arrays (include/vipd/vec.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/vec.h"

/* malloc refuses more than PTRDIFF_MAX bytes (pointer differences must
 * hold); so do we, before the multiplication can wrap. */
static size_t vec_max_elems(size_t elem_size)
{
	return (size_t)PTRDIFF_MAX / elem_size;
}

static size_t vec_next_cap(size_t cap, size_t need, size_t max)
{
	size_t next = cap ? cap : VEC_MIN_CAP;

	while (next < need)
		next = next > max / 2 ? need : next * 2;
	return next > max ? need : next;
}

int vec_reserve(void *items, size_t *cap, size_t need, size_t elem_size)
{
	void *old, *grown;
	size_t next;

	if (need <= *cap)
		return 0;
	if (elem_size == 0 || need > vec_max_elems(elem_size)) {
		errno = ENOMEM;
		return -1;
	}
	next = vec_next_cap(*cap, need, vec_max_elems(elem_size));
	/* items holds a T *, not a void *: copied as bytes, never read or
	 * written through a void * lvalue (strict aliasing). */
	memcpy(&old, items, sizeof(old));
	grown = realloc(old, next * elem_size);
	if (!grown)
		return -1;
	memcpy(items, &grown, sizeof(grown));
	*cap = next;
	return 0;
}

int vec_insert(void *items, size_t *n, size_t *cap, size_t at, const void *elem, size_t elem_size)
{
	char *base;

	if (vec_reserve(items, cap, *n + 1, elem_size) < 0)
		return -1;
	memcpy(&base, items, sizeof(base));
	memmove(base + (at + 1) * elem_size, base + at * elem_size, (*n - at) * elem_size);
	memcpy(base + at * elem_size, elem, elem_size);
	(*n)++;
	return 0;
}

void vec_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

size_t vec_sort_unique(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *b = base;
	size_t k = 0;

	if (n == 0)
		return 0;
	vec_sort(base, n, size, cmp);
	for (size_t i = 1; i < n; i++) {
		if (cmp(b + k * size, b + i * size) == 0)
			continue;
		if (++k != i)
			memcpy(b + k * size, b + i * size, size);
	}
	return k + 1;
}

void *vec_find(const void *key, const void *base, size_t n, size_t size,
               int (*cmp)(const void *key, const void *elem))
{
	return n ? bsearch(key, base, n, size, cmp) : NULL;
}

size_t vec_lower_bound(const void *key, const void *base, size_t n, size_t size,
                       int (*cmp)(const void *key, const void *elem))
{
	const char *b = base;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp(key, b + mid * size) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t vec_locate(const void *key, const void *base, size_t n, size_t size,
                  int (*cmp)(const void *key, const void *elem), bool *found)
{
	size_t i = vec_lower_bound(key, base, n, size, cmp);

	*found = i < n && cmp(key, (const char *)base + i * size) == 0;
	return i;
}
