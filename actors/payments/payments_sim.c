//  payments_sim.c — the embedded payment provider: a simulator that behaves like a card
//  network for the documented test cards (docs/payments.md) and approves every other valid
//  card. Stateless: an authorisation's fate at capture is written into its ref.
#include "payments_provider.h"
#include "verr.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

//  The test cards, as Stripe documents them where Stripe has one.
#define S_CARD_DECLINE      "4000000000000002"
#define S_CARD_INSUFFICIENT "4000000000009995"
#define S_CARD_CAPTURE_FAIL "4000000000000341"
//  Refs of authorisations whose capture will fail end with this.
#define S_CAPTURE_FAIL_TAG "_nocapture"

static void
s_decline (payments_result_t *result, const char *code, const char *message)
{
    memset (result, 0, sizeof *result);
    snprintf (result->code, sizeof result->code, "%s", code);
    snprintf (result->message, sizeof result->message, "%s", message);
}

static int
s_authorize (void *self, const payments_card_t *card, int64_t amount, const char *currency,
             const char *idempotency_key, payments_result_t *result)
{
    (void) self, (void) amount, (void) currency, (void) idempotency_key;
    if (strcmp (card->number, S_CARD_DECLINE) == 0) {
        s_decline (result, "card_declined",
                   "Your card was declined. Please use another card or contact your bank.");
        return 0;
    }
    if (strcmp (card->number, S_CARD_INSUFFICIENT) == 0) {
        s_decline (result, "insufficient_funds",
                   "Your card has insufficient funds. Please use another card.");
        return 0;
    }
    memset (result, 0, sizeof *result);
    result->ok = true;
    uint8_t raw[8];
    if (getrandom (raw, sizeof raw, 0) != (ssize_t) sizeof raw)
        return -VE_UNAVAILABLE;
    char hex[2 * sizeof raw + 1];
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf (hex + 2 * i, 3, "%02x", raw[i]);
    snprintf (result->ref, sizeof result->ref, "sim_auth_%s%s", hex,
              strcmp (card->number, S_CARD_CAPTURE_FAIL) == 0 ? S_CAPTURE_FAIL_TAG : "");
    return 0;
}

static bool
s_fails_capture (const char *ref)
{
    size_t n = strlen (ref), t = strlen (S_CAPTURE_FAIL_TAG);
    return n >= t && strcmp (ref + n - t, S_CAPTURE_FAIL_TAG) == 0;
}

static int
s_capture (void *self, const char *ref, int64_t amount, const char *currency,
           const char *idempotency_key, payments_result_t *result)
{
    (void) self, (void) amount, (void) currency, (void) idempotency_key;
    if (s_fails_capture (ref)) {
        s_decline (result, "capture_failed",
                   "We could not take the payment from your card; nothing was charged. Please "
                   "try another card.");
        return 0;
    }
    memset (result, 0, sizeof *result);
    result->ok = true;
    return 0;
}

static int
s_void (void *self, const char *ref, const char *idempotency_key, payments_result_t *result)
{
    (void) self, (void) ref, (void) idempotency_key;
    memset (result, 0, sizeof *result);
    result->ok = true;
    return 0;
}

static int
s_refund (void *self, const char *ref, int64_t amount, const char *currency,
          const char *idempotency_key, payments_result_t *result)
{
    (void) self, (void) ref, (void) amount, (void) currency, (void) idempotency_key;
    memset (result, 0, sizeof *result);
    result->ok = true;
    return 0;
}

payments_provider_t *
payments_sim_new (void)
{
    payments_provider_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    *self = (payments_provider_t) { .name = "sim",
                                    .authorize = s_authorize,
                                    .capture = s_capture,
                                    .void_auth = s_void,
                                    .refund = s_refund };
    return self;
}

void
payments_provider_destroy (payments_provider_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    payments_provider_t *self = *self_p;
    if (self->destroy)
        self->destroy (self->self);
    free (self);
    *self_p = NULL;
}
