/*
 * Arrays of plain elements: the one grow-by-doubling reserve, and sort and
 * search over sorted arrays that accept an empty array with a NULL base
 * (qsort and bsearch must not be given NULL, even for 0 elements: clang's
 * UBSan aborts on it).
 */
#ifndef VIPD_VEC_H
#define VIPD_VEC_H

#include <stdbool.h>
#include <stddef.h>

#include "vipd/errbuf.h"

/* The capacity a first reservation gets at least. */
#define VEC_MIN_CAP 4

/* Makes *items (an array of *cap elements of elem_size bytes, or NULL with
 * *cap 0) hold at least need elements: the capacity doubles (starting at
 * VEC_MIN_CAP) until it does, or is need when doubling would overflow.
 * Elements past the old capacity are uninitialised. 0 when it already did
 * or has grown; -1 with errno ENOMEM when memory runs out or need elements
 * cannot be addressed, *items and *cap then unchanged. items is the address
 * of any object pointer (T **), passed as void **. */
int vec_reserve(void *items, size_t *cap, size_t need, size_t elem_size) VIPD_MUST_CHECK;

/* vec_reserve for an array p of any element type with its capacity cap. */
#define VEC_RESERVE(p, cap, need) vec_reserve(&(p), &(cap), (need), sizeof(*(p)))

/* vec_lower_bound, and *found whether the element there equals key: for
 * arrays of unique keys, where key is or where it would be inserted. */
size_t vec_locate(const void *key, const void *base, size_t n, size_t size,
                  int (*cmp)(const void *key, const void *elem), bool *found);

/* Inserts the element at elem (elem_size bytes) at index at (0 to *n) of
 * *items, which holds *n elements and room for *cap, growing it as
 * vec_reserve does; the elements from at on move up one. 0, or -1 with
 * errno ENOMEM and nothing changed. */
int vec_insert(void *items, size_t *n, size_t *cap, size_t at, const void *elem,
               size_t elem_size) VIPD_MUST_CHECK;

/* vec_insert into an array p of n elements and capacity cap. */
#define VEC_INSERT(p, n, cap, at, elem) vec_insert(&(p), &(n), &(cap), (at), (elem), sizeof(*(p)))

/* qsort, and nothing at all for n 0 (base may then be NULL). */
void vec_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* vec_sort, then each run of elements equal by cmp kept once (its first
 * after sorting; qsort is not stable: the others must not matter, nor own
 * anything). The new count. */
size_t vec_sort_unique(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* bsearch, NULL for n 0 (base may then be NULL). */
void *vec_find(const void *key, const void *base, size_t n, size_t size,
               int (*cmp)(const void *key, const void *elem));

/* The index of the first element of base[0, n) (sorted by cmp) that is not
 * below key: where key is, or where it would be inserted; n when every
 * element is below it. cmp(key, elem) < 0, 0, > 0 as key is below, equal
 * to, above elem. */
size_t vec_lower_bound(const void *key, const void *base, size_t n, size_t size,
                       int (*cmp)(const void *key, const void *elem));

#endif
