/* policy-values.c -- typed condition values: numbers, dates, booleans, IPs. */
#include "policy-values.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int pv_parse_number(const char *s, double *out)
{
    /* strtod also takes hex, "inf" and "nan", which IAM does not: check first. */
    if (!*s)
        return -1;
    for (const char *c = s; *c; c++)
        if (!isdigit((unsigned char)*c) && !strchr("+-.eE", *c))
            return -1;
    char *end;
    double d = strtod(s, &end);
    if (*end || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads exactly n digits. */
static int digits(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*s)[i]))
            return -1;
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    *out = v;
    return 0;
}

static int parse_epoch(const char *s, int64_t *ms_r)
{
    int64_t sec = 0;
    const char *c = s;
    if (!isdigit((unsigned char)*c))
        return -1;
    for (; isdigit((unsigned char)*c); c++) {
        if (sec > 100000000000LL) /* beyond year 5000: not a date */
            return -1;
        sec = sec * 10 + (*c - '0');
    }
    int64_t ms = 0;
    if (*c == '.') {
        c++;
        int scale = 100;
        if (!isdigit((unsigned char)*c))
            return -1;
        for (; isdigit((unsigned char)*c); c++, scale /= 10)
            ms += (*c - '0') * scale;
    }
    if (*c)
        return -1;
    *ms_r = sec * 1000 + ms;
    return 0;
}

int pv_parse_date(const char *s, int64_t *ms_r)
{
    if (!strchr(s, '-'))
        return parse_epoch(s, ms_r);
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off_min = 0;
    const char *c = s;
    if (digits(&c, 4, &y) || *c++ != '-' || digits(&c, 2, &mo) || *c++ != '-' ||
        digits(&c, 2, &d))
        return -1;
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
        return -1;
    if (*c == 'T' || *c == 't' || *c == ' ') {
        c++;
        if (digits(&c, 2, &h) || *c++ != ':' || digits(&c, 2, &mi))
            return -1;
        if (*c == ':') {
            c++;
            if (digits(&c, 2, &sec))
                return -1;
            if (*c == '.') {
                c++;
                int scale = 100;
                if (!isdigit((unsigned char)*c))
                    return -1;
                for (; isdigit((unsigned char)*c); c++, scale /= 10)
                    ms += (*c - '0') * scale;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return -1;
        if (*c == 'Z' || *c == 'z') {
            c++;
        } else if (*c == '+' || *c == '-') {
            int sign = *c++ == '-' ? -1 : 1, oh, om = 0;
            if (digits(&c, 2, &oh))
                return -1;
            if (*c == ':')
                c++;
            if (*c && digits(&c, 2, &om))
                return -1;
            if (oh > 23 || om > 59)
                return -1;
            off_min = sign * (oh * 60 + om);
        }
    }
    if (*c)
        return -1;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t t = days * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off_min * 60;
    *ms_r = t * 1000 + ms;
    return 0;
}

void pv_format_date(int64_t ms, char *buf, unsigned cap)
{
    /* civil_from_days, the inverse of days_from_civil */
    int64_t t = ms / 1000, days = t / 86400, rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    snprintf(buf, cap, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60));
}

int pv_parse_bool(const char *s, int *b_r)
{
    if (strcasecmp(s, "true") == 0)
        *b_r = 1;
    else if (strcasecmp(s, "false") == 0)
        *b_r = 0;
    else
        return -1;
    return 0;
}

int pv_parse_cidr(const char *s, struct pol_cidr *c_r)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof(buf))
        return -1;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    memset(c_r, 0, sizeof(*c_r));
    int max;
    if (inet_pton(AF_INET, buf, c_r->addr) == 1) {
        c_r->family = 4;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, c_r->addr) == 1) {
        c_r->family = 6;
        max = 128;
    } else {
        return -1;
    }
    int bits = max;
    if (slash) {
        const char *b = slash + 1;
        if (!*b || strlen(b) > 3)
            return -1;
        bits = 0;
        for (; *b; b++) {
            if (!isdigit((unsigned char)*b))
                return -1;
            bits = bits * 10 + (*b - '0');
        }
        if (bits > max)
            return -1;
    }
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (c_r->family == 6 && memcmp(c_r->addr, mapped, 12) == 0 && (!slash || bits >= 96)) {
        memmove(c_r->addr, c_r->addr + 12, 4);
        memset(c_r->addr + 4, 0, 12);
        c_r->family = 4;
        bits -= 96;
    }
    c_r->bits = bits;
    return 0;
}

int pv_cidr_contains(const struct pol_cidr *net, const struct pol_cidr *addr)
{
    if (net->family != addr->family)
        return 0;
    int full = net->bits / 8, rest = net->bits % 8;
    if (memcmp(net->addr, addr->addr, (size_t)full) != 0)
        return 0;
    if (rest) {
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        if ((net->addr[full] & mask) != (addr->addr[full] & mask))
            return 0;
    }
    return 1;
}
