/*
 * metrics.h -- a process-wide registry of named counters (services->metric_add)
 * rendered in the Prometheus text exposition format.
 *
 * A name is a Prometheus metric name, optionally followed by labels:
 * `cairn_requests_total` or `cairn_requests_total{op="GetObject"}`.  Thread-safe.
 */
#ifndef CAIRN_METRICS_H
#define CAIRN_METRICS_H

#include <stddef.h>

/* The most distinct counters kept; further new names are dropped (and
 * counted in cairn_metrics_dropped_total). */
#define METRICS_MAX_COUNTERS 4096

/* Adds `delta` to counter `name`, creating it at 0.  An invalid name is
 * ignored (and counted in cairn_metrics_dropped_total). */
void metrics_add(const char *name, double delta);

/* Returns the current value of `name` (0 when unknown). */
double metrics_get(const char *name);

/*
 * Renders every counter, sorted by name, as Prometheus text ("# TYPE base
 * counter" once per metric name, then "name value" lines).  Sets *text_r to a
 * malloc'd NUL-terminated string (the caller frees it) and *len_r to its
 * length.  Returns 0 or CAIRN_E_NOMEM.
 */
int metrics_render(char **text_r, size_t *len_r);

/* Forgets every counter (tests). */
void metrics_reset(void);

#endif
