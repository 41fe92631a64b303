/*
 * policy-decide.h -- one authorization decision over all the policies of a
 * query, combined as AWS does within one account.
 */
#ifndef CAIRN_POLICY_DECIDE_H
#define CAIRN_POLICY_DECIDE_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/plugin.h"
#include "policy-cache.h"

/*
 * Decides `q`: an explicit Deny in any identity policy or in a bucket policy
 * statement whose Principal matches the caller -> CAIRN_DENY; else an Allow
 * in either -> CAIRN_ALLOW; else CAIRN_NO_OPINION (implicit deny).
 * Anonymous callers are judged by the bucket policy alone.  `now_ms` fills
 * aws:CurrentTime / aws:EpochTime when the context lacks them.  When
 * explain_r is not NULL, a short explanation naming the policy and
 * statement that decided is written there.  Returns the decision (>= 0) or
 * a negative error (CAIRN_E_INTERNAL for a stored document that does not
 * parse, CAIRN_E_NOMEM).
 */
int policy_decide(struct policy_cache *cache, const struct cairn_policy_query *q, int64_t now_ms,
                  char *explain_r, size_t explain_cap);

#endif
