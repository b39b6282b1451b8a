//  payments.schema.c — the payments service: payment intents with a Stripe-like life cycle,
//  authorised and captured at a provider (an embedded simulator by default), refunds, a
//  double-entry ledger per order, and an idempotency key on every call that changes money.
//  Every request is keyed by its order id. docs/payments.md is the design.
#include "vbus.h"
#include "vmsg.h"

#define PAYMENTS_ORDER_BYTES 128  //  an order id (the partition key)
#define PAYMENTS_ID_BYTES    64   //  a payment id, made by the actor ("pi_" + 24 hex)
#define PAYMENTS_KEY_BYTES   128  //  an idempotency key
#define PAYMENTS_TEXT_BYTES  400  //  a shopper-readable sentence
//  Money is integer minor units (cents) with an ISO 4217 currency; 1e12 minor units is ten
//  billion in a two-decimal currency, far above any one payment and far below 2^53.
#define PAYMENTS_MAX_AMOUNT 1e12

//  The states of a payment intent, in life-cycle order (Stripe's names):
//    requires_payment  created, not authorised: the card was declined (last_error says why)
//    requires_capture  authorised: the amount is held on the card until captured or canceled
//    succeeded         captured (refunds keep it succeeded; see refunded)
//    canceled          voided before capture, or the capture failed (last_error capture_failed)
//  The lists themselves are in venum.h (VENUM_PAYMENT_STATE, VENUM_PAYMENT_ERROR,
//  VENUM_LEDGER_ACCOUNT, VENUM_LEDGER_MOVE): the codec, the docs and the actor's enums use them.

//  last_error.code: why an intent did not go where it was asked to.
//    card_declined       the issuer said no (generic)
//    insufficient_funds  the issuer said no: not enough money
//    capture_failed      authorised, but the capture failed (the hold is released)
//    processing_error    the provider failed to process the card

//  The ledger's accounts per order (balance = debits - credits) and its kinds of movement;
//  each movement debits one account and credits another by the same amount:
//    authorize  debit authorized, credit customer    a hold is placed on the card
//    capture    debit captured,   credit authorized  held money is taken
//    release    debit customer,   credit authorized  a hold is given back (cancel, the
//                                                    uncaptured rest, a failed capture)
//    refund     debit customer,   credit captured    taken money goes back

//  ---------------------------------------------------------------- shared shapes
#define S_ORDER_ID                                                                                 \
    {                                                                                              \
        "order_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, PAYMENTS_ORDER_BYTES),                   \
            .doc = "the order; the request's partition key (vbus_opts_t.key) must be this id"      \
    }
#define S_ORDER_ID_OUT                                                                             \
    {                                                                                              \
        "order_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, PAYMENTS_ORDER_BYTES),                   \
            .doc = "the order"                                                                     \
    }
#define S_PAYMENT_ID                                                                               \
    {                                                                                              \
        "payment_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, PAYMENTS_ID_BYTES),                    \
            .doc = "the payment intent, as payments.authorize returned it"                         \
    }
#define S_IDEMPOTENCY_KEY                                                                          \
    {                                                                                              \
        "idempotency_key", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, PAYMENTS_KEY_BYTES),              \
            .doc = "the first result is stored and returned for every replay with the same "       \
                   "parameters (kept at least 24 h); with other parameters: conflict"              \
    }
#define S_CURRENCY(what)                                                                           \
    {                                                                                              \
        "currency", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, 3), .doc = what                          \
    }

static const vmsg_field_t s_card_fields[] = {
    { "number", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 64),
      .doc = "12 to 19 digits (spaces and dashes are ignored), Luhn-checked; never stored or "
             "logged: only its brand and last 4 digits are kept" },
    { "exp_month", VMSG_UINT, VMSG_REQUIRED, VMSG_RANGE (1, 12), .doc = "expiry month, 1 to 12" },
    { "exp_year", VMSG_UINT, VMSG_REQUIRED, VMSG_RANGE (2000, 2199),
      .doc = "expiry year, four digits; the card is valid to the end of its expiry month" },
    { "cvc", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 16),
      .doc = "3 or 4 digits; passed to the provider, never stored" },
    { "holder", VMSG_STR, VMSG_LEN (0, 200), .doc = "the name on the card" },
    { 0 }
};
static const vmsg_schema_t s_card = { "payments.card", s_card_fields,
                                      .doc = "A card as the shopper typed it." };

static const vmsg_field_t s_error_fields[] = {
    { "code", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 32), VMSG_ENUM (venum_payment_error),
      .doc = "why: see venum_payment_error" },
    { "message", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, PAYMENTS_TEXT_BYTES),
      .doc = "a sentence a shopper can read" },
    { 0 }
};
static const vmsg_schema_t s_error = { "payments.error", s_error_fields,
                                       .doc = "Why the last step of an intent failed." };

static const vmsg_field_t s_intent_fields[] = {
    { "payment_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, PAYMENTS_ID_BYTES),
      .doc = "unique, made by the actor; holds nothing secret" },
    S_ORDER_ID_OUT,
    { "user_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VBUS_MAX_USER), .doc = "who pays" },
    { "status", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 32), VMSG_ENUM (venum_payment_state),
      .doc = "where the intent is in its life cycle" },
    { "amount", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, PAYMENTS_MAX_AMOUNT),
      .doc = "the amount asked for, minor units" },
    S_CURRENCY ("ISO 4217 code, upper case"),
    { "authorized", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, PAYMENTS_MAX_AMOUNT),
      .doc = "authorised at the provider, minor units (0 when declined)" },
    { "captured", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, PAYMENTS_MAX_AMOUNT),
      .doc = "captured, minor units" },
    { "refunded", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, PAYMENTS_MAX_AMOUNT),
      .doc = "refunded so far, minor units; never above captured" },
    { "card_brand", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 16),
      .doc = "visa, mastercard, amex or other" },
    { "card_last4", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (4, 4), .doc = "the card's last 4 digits" },
    { "last_error", VMSG_MSG, .schema = &s_error,
      .doc = "present when the last step failed (a decline, a failed capture)" },
    { "created_at", VMSG_INT, VMSG_REQUIRED, .doc = "Unix ms" },
    { "updated_at", VMSG_INT, VMSG_REQUIRED, .doc = "Unix ms" },
    { 0 }
};
static const vmsg_schema_t s_intent = { "payments.intent", s_intent_fields,
                                        .doc = "A payment intent." };

//  ---------------------------------------------------------------- payments.authorize
static const vmsg_field_t s_authorize_request_fields[] = {
    S_ORDER_ID,
    { "user_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VBUS_MAX_USER),
      .doc = "who pays: the customer who may read the intent" },
    { "amount", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, PAYMENTS_MAX_AMOUNT),
      .doc = "minor units (cents), 1 to 10^12" },
    S_CURRENCY ("ISO 4217 code, three upper-case letters; one currency per order"),
    { "card", VMSG_MSG, VMSG_REQUIRED, .schema = &s_card, .doc = "the card to charge" },
    S_IDEMPOTENCY_KEY,
    { 0 }
};
static const vmsg_schema_t s_authorize_request = { "payments.authorize.request",
                                                   s_authorize_request_fields,
                                                   .doc = "A new intent, authorised at once." };

//  ---------------------------------------------------------------- payments.capture
static const vmsg_field_t s_capture_request_fields[] = {
    S_ORDER_ID,
    S_PAYMENT_ID,
    { "amount", VMSG_INT, VMSG_RANGE (1, PAYMENTS_MAX_AMOUNT),
      .doc = "minor units, at most what was authorised (default: all of it); the rest of the "
             "hold is released" },
    S_IDEMPOTENCY_KEY,
    { 0 }
};
static const vmsg_schema_t s_capture_request = { "payments.capture.request",
                                                 s_capture_request_fields,
                                                 .doc = "Captures an authorised intent." };

//  ---------------------------------------------------------------- payments.cancel
static const vmsg_field_t s_cancel_request_fields[] = {
    S_ORDER_ID, S_PAYMENT_ID, S_IDEMPOTENCY_KEY, { 0 }
};
static const vmsg_schema_t s_cancel_request = { "payments.cancel.request", s_cancel_request_fields,
                                                .doc = "Voids an intent not yet captured." };

//  ---------------------------------------------------------------- payments.refund
static const vmsg_field_t s_refund_request_fields[] = {
    S_ORDER_ID,
    S_PAYMENT_ID,
    { "amount", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, PAYMENTS_MAX_AMOUNT),
      .doc = "minor units; at most captured minus refunded so far" },
    S_IDEMPOTENCY_KEY,
    { 0 }
};
static const vmsg_schema_t s_refund_request = { "payments.refund.request", s_refund_request_fields,
                                                .doc = "Refunds part or all of a capture." };

//  ---------------------------------------------------------------- reads
static const vmsg_field_t s_get_request_fields[] = { S_ORDER_ID, S_PAYMENT_ID, { 0 } };
static const vmsg_schema_t s_get_request = { "payments.get.request", s_get_request_fields,
                                             .doc = "Which intent." };

static const vmsg_field_t s_order_request_fields[] = { S_ORDER_ID, { 0 } };
static const vmsg_schema_t s_order_request = { "payments.list.request", s_order_request_fields,
                                               .doc = "Which order." };
static const vmsg_field_t s_list_reply_fields[] = {
    S_ORDER_ID_OUT,
    //  Also the ceiling on intents per order: payments.authorize refuses the next one.
    { "payments", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, 100), .schema = &s_intent,
      .doc = "the order's intents (at most 100), oldest first" },
    { 0 }
};
static const vmsg_schema_t s_list_reply = { "payments.list.reply", s_list_reply_fields,
                                            .doc = "An order's intents." };

static const vmsg_field_t s_ledger_request_fields[] = {
    S_ORDER_ID,
    { "after", VMSG_UINT, .doc = "entries after this seq (next_after of the previous page)" },
    { "limit", VMSG_UINT, VMSG_RANGE (1, 1000), .doc = "entries per page (default 1000)" },
    { 0 }
};
static const vmsg_schema_t s_ledger_request = { "payments.ledger.request", s_ledger_request_fields,
                                                .doc = "Which order, and a page of entries." };
static const vmsg_field_t s_entry_fields[] = {
    { "seq", VMSG_UINT, VMSG_REQUIRED, .doc = "1, 2, ... per order, in commit order" },
    { "payment_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, PAYMENTS_ID_BYTES),
      .doc = "the intent that moved the money" },
    { "kind", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 16), VMSG_ENUM (venum_ledger_move),
      .doc = "the movement" },
    { "debit", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 16), VMSG_ENUM (venum_ledger_account),
      .doc = "the account debited" },
    { "credit", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 16), VMSG_ENUM (venum_ledger_account),
      .doc = "the account credited" },
    { "amount", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, PAYMENTS_MAX_AMOUNT),
      .doc = "minor units, debited and credited alike" },
    S_CURRENCY ("ISO 4217 code"),
    { "at", VMSG_INT, VMSG_REQUIRED, .doc = "Unix ms" },
    { 0 }
};
static const vmsg_schema_t s_entry = { "payments.entry", s_entry_fields,
                                       .doc = "One movement: a debit and a credit." };
static const vmsg_field_t s_balance_fields[] = {
    { "account", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 16), VMSG_ENUM (venum_ledger_account),
      .doc = "the account" },
    S_CURRENCY ("ISO 4217 code"),
    { "debits", VMSG_INT, VMSG_REQUIRED, VMSG_MIN (0), .doc = "sum of its debits" },
    { "credits", VMSG_INT, VMSG_REQUIRED, VMSG_MIN (0), .doc = "sum of its credits" },
    { "balance", VMSG_INT, VMSG_REQUIRED, .doc = "debits - credits" },
    { 0 }
};
static const vmsg_schema_t s_balance = { "payments.balance", s_balance_fields,
                                         .doc = "An account's totals over the whole order." };
static const vmsg_field_t s_ledger_reply_fields[] = {
    S_ORDER_ID_OUT,
    { "entries", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, 1000), .schema = &s_entry,
      .doc = "one page of entries, by seq" },
    { "next_after", VMSG_UINT, .doc = "pass as after for the next page; absent on the last" },
    { "balances", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, 3), .schema = &s_balance,
      .doc = "every account of the order, over all its entries" },
    { "debits", VMSG_INT, VMSG_REQUIRED, VMSG_MIN (0), .doc = "all debits of the order" },
    { "credits", VMSG_INT, VMSG_REQUIRED, VMSG_MIN (0), .doc = "all credits of the order" },
    { "balanced", VMSG_BOOL, VMSG_REQUIRED,
      .doc = "debits == credits and the balances sum to zero" },
    { 0 }
};
static const vmsg_schema_t s_ledger_reply = { "payments.ledger.reply", s_ledger_reply_fields,
                                              .doc = "An order's ledger." };

//  ---------------------------------------------------------------- events
static const vmsg_field_t s_event_fields[] = {
    S_ORDER_ID_OUT,
    { "payment_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, PAYMENTS_ID_BYTES), .doc = "the intent" },
    { "user_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VBUS_MAX_USER), .doc = "who pays" },
    { "amount", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, PAYMENTS_MAX_AMOUNT),
      .doc = "minor units moved: authorised, captured, released, refunded, or asked for (failed)" },
    S_CURRENCY ("ISO 4217 code"),
    { "code", VMSG_STR, VMSG_LEN (1, 32), VMSG_ENUM (venum_payment_error),
      .doc = "payments.failed: the last_error code" },
    { 0 }
};
static const vmsg_schema_t s_event = { "payments.event", s_event_fields,
                                       .doc = "A payment moved (or failed to)." };

//  ---------------------------------------------------------------- the domain
#define S_MONEY   (VMSG_ROLE_SERVICE | VMSG_ROLE_ADMIN)
#define S_READERS (VMSG_ROLE_CUSTOMER | VMSG_ROLE_SERVICE | VMSG_ROLE_ADMIN)

static const vmsg_method_t s_methods[] = {
    { "payments", "authorize", &s_authorize_request, &s_intent, S_MONEY,
      "Creates an intent and authorises it: requires_capture, or requires_payment with "
      "last_error when declined (a decline is ok, not an error). Malformed card: bad_request." },
    { "payments", "capture", &s_capture_request, &s_intent, S_MONEY,
      "Captures an authorised intent: succeeded; when the capture fails, canceled with "
      "last_error capture_failed and the hold released." },
    { "payments", "cancel", &s_cancel_request, &s_intent, S_MONEY,
      "Voids an intent not yet captured: canceled. A succeeded one: conflict (refund it)." },
    { "payments", "refund", &s_refund_request, &s_intent, S_MONEY,
      "Refunds part or all of a capture; conflict above what is left to refund." },
    { "payments", "get", &s_get_request, &s_intent, S_READERS,
      "One intent; a customer sees only their own (others: not_found)." },
    { "payments", "list", &s_order_request, &s_list_reply, S_READERS,
      "An order's intents; a customer sees only their own." },
    { "payments", "ledger", &s_ledger_request, &s_ledger_reply, S_READERS,
      "An order's ledger entries and balances, and whether it balances; a customer only for "
      "an order they pay for (others: not_found)." },
    { 0 }
};

static const vmsg_event_t s_events[] = {
    { "payments.authorized", &s_event, "An intent was authorised (amount held)." },
    { "payments.captured", &s_event, "An intent was captured (amount captured)." },
    { "payments.canceled", &s_event, "An intent was voided (amount released)." },
    { "payments.refunded", &s_event, "A refund (this refund's amount)." },
    { "payments.failed", &s_event,
      "A decline at authorisation or a failed capture (code says which; amount asked for)." },
    { 0 }
};

const vmsg_domain_t vmsg_domain_payments = {
    "payments", s_methods, s_events,
    "Payment intents, a provider simulator, refunds, a double-entry ledger per order and "
    "idempotency keys (docs/payments.md)."
};
