/*
 * policy-values.h -- parsing of the typed values condition operators compare:
 * numbers, dates (ISO 8601 or epoch seconds), booleans and IP networks.
 */
#ifndef CAIRN_POLICY_VALUES_H
#define CAIRN_POLICY_VALUES_H

#include <stdint.h>

#include "policy-internal.h"

/* A decimal number ("10", "-1.5", "2e3").  0 and *out, or -1. */
int pv_parse_number(const char *s, double *out);

/* ISO 8601 ("2024-01-31", "2024-01-31T12:00:00Z", "...T12:00:00.250+02:00")
 * or epoch seconds ("1706702400", "1706702400.5"), as milliseconds since the
 * epoch.  0 and *ms_r, or -1. */
int pv_parse_date(const char *s, int64_t *ms_r);

/* "true" or "false", any case.  0 and *b_r, or -1. */
int pv_parse_bool(const char *s, int *b_r);

/* An IPv4 or IPv6 address with an optional /prefix ("10.0.0.0/8",
 * "2001:db8::/32", "192.0.2.7").  An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) becomes IPv4.  0 and *c_r, or -1. */
int pv_parse_cidr(const char *s, struct pol_cidr *c_r);

/* Is address `addr` (a parsed value with full prefix) inside `net`? */
int pv_cidr_contains(const struct pol_cidr *net, const struct pol_cidr *addr);

/* Formats milliseconds since the epoch as ISO 8601 UTC ("...T..Z"), into
 * buf (at least 32 bytes). */
void pv_format_date(int64_t ms, char *buf, unsigned cap);

#endif
