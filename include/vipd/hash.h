/*
 * FNV-1a, 64 bits: the one byte hash behind the check phases
 * (sched_hash), the task fingerprints (sched_sync.c), the signature of the
 * definition files (engine_reload.c) and the named-VIP home slots
 * (vip_alloc.c). Each caller keeps its own starting value.
 */
#ifndef VIPD_HASH_H
#define VIPD_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV's 64-bit offset basis (the named-VIP slots start from it). */
#define HASH_FNV1A_BASIS 14695981039346656037ULL
/* What the check phases, fingerprints and file signatures start from: the
 * basis short of its last digit, as first written; kept so that every
 * check keeps the phase it had. Any start value spreads as well. */
#define HASH_VIPD_SEED 1469598103934665603ULL

/* h continued over the n bytes at p. */
static inline uint64_t hash_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 1099511628211ULL;
	return h;
}

#endif
