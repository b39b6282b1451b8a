//  payments_card.h — card checks done before any provider sees a card: digits and Luhn, expiry
//  against a given clock, CVC format, and the brand from the number's prefix. The number and
//  the CVC live only in a payments_card_t on the stack for the length of one call; what is kept
//  is the brand and the last 4 digits. Pure functions: thread-safe, no allocation.
#ifndef PAYMENTS_CARD_H
#define PAYMENTS_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAYMENTS_CARD_MIN_DIGITS 12
#define PAYMENTS_CARD_MAX_DIGITS 19
#define PAYMENTS_CARD_MAX_YEARS  20  //  an expiry further ahead than this is a typo

typedef struct {
    char number[PAYMENTS_CARD_MAX_DIGITS + 1];  //  digits only; never stored, never logged
    char cvc[5];                                //  never stored, never logged
    char last4[5];
    const char *brand;  //  static: "visa", "mastercard", "amex" or "other"
    uint32_t exp_month, exp_year;
    const char *holder;  //  borrowed; may be NULL
} payments_card_t;

//  True when digits (a NUL-terminated string of digits) passes the Luhn check.
bool payments_card_luhn (const char *digits);
//  The brand from the prefix of digits: "visa" (4), "mastercard" (51-55, 2221-2720), "amex"
//  (34, 37), else "other". Returns a static string.
const char *payments_card_brand (const char *digits);
//  True when a card expiring at the end of month/year is past at now_ms (Unix ms, UTC).
bool payments_card_expired (uint32_t month, uint32_t year, int64_t now_ms);
//  True when cvc is 3 or 4 digits.
bool payments_card_cvc_ok (const char *cvc);

//  Checks a card as typed and fills *card. number may hold spaces and dashes between digits.
//  Returns 0, or -VE_BAD_REQUEST with a message in err naming the field ("card.number: not a
//  valid card number"); no message ever quotes the number or the CVC. holder is borrowed.
int payments_card_parse (payments_card_t *card, const char *number, uint32_t exp_month,
                         uint32_t exp_year, const char *cvc, const char *holder, int64_t now_ms,
                         char *err, size_t errlen);
//  Overwrites the number and the CVC (call when the provider is done with them).
void payments_card_wipe (payments_card_t *card);

#endif
