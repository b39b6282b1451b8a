//  payments_provider.h — what the payments actor needs from a payment provider: authorise a
//  card, capture, void and refund an authorisation. The embedded simulator (payments_sim.c) is
//  the default; a real provider is one more constructor returning this struct. Every call
//  carries the caller's idempotency key, so a provider that dedupes (as real ones do) makes a
//  retry after a crash harmless. A provider runs on the actor's thread and must answer well
//  inside the worker's heartbeat window.
#ifndef PAYMENTS_PROVIDER_H
#define PAYMENTS_PROVIDER_H

#include "payments_card.h"
#include <stdbool.h>
#include <stdint.h>

#define PAYMENTS_REF_BYTES 64

//  What the provider said. A decline is a result (ok false, with a code from
//  venum_payment_error in schemas/payments.schema.c), not a failure of the call.
typedef struct {
    bool ok;
    char code[32];                 //  when not ok
    char message[200];             //  when not ok: a sentence a shopper can read
    char ref[PAYMENTS_REF_BYTES];  //  authorize: the provider's id of the authorisation
} payments_result_t;

typedef struct payments_provider_s payments_provider_t;
struct payments_provider_s {
    const char *name;  //  "sim"
    void *self;        //  the provider's own state
    //  Each returns 0 with *result filled, or a negative code when the provider could not be
    //  asked (-VE_UNAVAILABLE: unreachable, -VE_TIMEOUT); then nothing happened there.
    //  The card (number and CVC included) is borrowed for the call: never keep or log it.
    int (*authorize) (void *self, const payments_card_t *card, int64_t amount, const char *currency,
                      const char *idempotency_key, payments_result_t *result);
    int (*capture) (void *self, const char *ref, int64_t amount, const char *currency,
                    const char *idempotency_key, payments_result_t *result);
    //  Releases the hold of an authorisation not captured ("void"; a keyword in C).
    int (*void_auth) (void *self, const char *ref, const char *idempotency_key,
                      payments_result_t *result);
    int (*refund) (void *self, const char *ref, int64_t amount, const char *currency,
                   const char *idempotency_key, payments_result_t *result);
    void (*destroy) (void *self);  //  frees self; may be NULL
};

//  The simulator: decides from the card number (docs/payments.md lists the test cards), keeps
//  no state of its own (what capture needs travels in the ref). Returns NULL when out of memory;
//  the caller owns it (payments_provider_destroy).
payments_provider_t *payments_sim_new (void);

//  Frees a provider made by a *_new above; NULL-safe, idempotent.
void payments_provider_destroy (payments_provider_t **self_p);

#endif
