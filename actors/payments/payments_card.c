//  payments_card.c — card checks before a card reaches a provider: Luhn, expiry, CVC, brand.
//  Error messages name the field and never quote the number or the CVC, so they are safe to
//  log and to show.
#include "payments_card.h"
#include "verr.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

bool
payments_card_luhn (const char *digits)
{
    size_t n = strlen (digits);
    if (n == 0)
        return false;
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        char c = digits[n - 1 - i];
        if (c < '0' || c > '9')
            return false;
        int d = c - '0';
        //  Every second digit from the right is doubled; a two-digit result adds its digits.
        if (i % 2 == 1 && (d *= 2) > 9)
            d -= 9;
        sum += d;
    }
    return sum % 10 == 0;
}

//  The first n digits as a number (digits holds at least n).
static int
s_prefix (const char *digits, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (digits[i] - '0');
    return v;
}

const char *
payments_card_brand (const char *digits)
{
    size_t n = strlen (digits);
    if (n >= 1 && digits[0] == '4')
        return "visa";
    if (n >= 2 && (s_prefix (digits, 2) == 34 || s_prefix (digits, 2) == 37))
        return "amex";
    if (n >= 2 && s_prefix (digits, 2) >= 51 && s_prefix (digits, 2) <= 55)
        return "mastercard";
    if (n >= 4 && s_prefix (digits, 4) >= 2221 && s_prefix (digits, 4) <= 2720)
        return "mastercard";
    return "other";
}

//  The UTC year and month (1..12) at now_ms.
static void
s_year_month (int64_t now_ms, uint32_t *year, uint32_t *month)
{
    time_t t = (time_t) (now_ms / 1000);
    struct tm tm;
    gmtime_r (&t, &tm);
    *year = (uint32_t) tm.tm_year + 1900;
    *month = (uint32_t) tm.tm_mon + 1;
}

bool
payments_card_expired (uint32_t month, uint32_t year, int64_t now_ms)
{
    uint32_t y, m;
    s_year_month (now_ms, &y, &m);
    //  A card is good through the last day of its expiry month.
    return year < y || (year == y && month < m);
}

bool
payments_card_cvc_ok (const char *cvc)
{
    size_t n = strlen (cvc);
    if (n < 3 || n > 4)
        return false;
    for (size_t i = 0; i < n; i++)
        if (cvc[i] < '0' || cvc[i] > '9')
            return false;
    return true;
}

static int
s_fail (char *err, size_t errlen, const char *message)
{
    if (err && errlen)
        snprintf (err, errlen, "%s", message);
    return -VE_BAD_REQUEST;
}

int
payments_card_parse (payments_card_t *card, const char *number, uint32_t exp_month,
                     uint32_t exp_year, const char *cvc, const char *holder, int64_t now_ms,
                     char *err, size_t errlen)
{
    memset (card, 0, sizeof *card);
    size_t n = 0;
    for (const char *p = number; *p; p++) {
        if (*p == ' ' || *p == '-')
            continue;  //  as printed on the card, or typed in groups
        if (*p < '0' || *p > '9' || n == PAYMENTS_CARD_MAX_DIGITS) {
            payments_card_wipe (card);
            return s_fail (err, errlen, "card.number: expected 12 to 19 digits");
        }
        card->number[n++] = *p;
    }
    if (n < PAYMENTS_CARD_MIN_DIGITS) {
        payments_card_wipe (card);
        return s_fail (err, errlen, "card.number: expected 12 to 19 digits");
    }
    if (!payments_card_luhn (card->number)) {
        payments_card_wipe (card);
        return s_fail (err, errlen, "card.number: not a valid card number");
    }
    uint32_t year, month;
    s_year_month (now_ms, &year, &month);
    if (exp_month < 1 || exp_month > 12) {
        payments_card_wipe (card);
        return s_fail (err, errlen, "card.exp_month: expected 1 to 12");
    }
    if (payments_card_expired (exp_month, exp_year, now_ms)) {
        payments_card_wipe (card);
        if (err && errlen)
            snprintf (err, errlen, "%s: the card expired at the end of %02u/%u",
                      exp_year == year ? "card.exp_month" : "card.exp_year", exp_month, exp_year);
        return -VE_BAD_REQUEST;
    }
    if (exp_year > year + PAYMENTS_CARD_MAX_YEARS) {
        payments_card_wipe (card);
        if (err && errlen)
            snprintf (err, errlen, "card.exp_year: more than %d years ahead",
                      PAYMENTS_CARD_MAX_YEARS);
        return -VE_BAD_REQUEST;
    }
    if (!payments_card_cvc_ok (cvc)) {
        payments_card_wipe (card);
        return s_fail (err, errlen, "card.cvc: expected 3 or 4 digits");
    }
    memcpy (card->cvc, cvc, strlen (cvc) + 1);
    memcpy (card->last4, card->number + n - 4, 4);
    card->brand = payments_card_brand (card->number);
    card->exp_month = exp_month;
    card->exp_year = exp_year;
    card->holder = holder;
    return 0;
}

void
payments_card_wipe (payments_card_t *card)
{
    //  explicit_bzero: a plain memset of memory about to die may be optimised away.
    explicit_bzero (card->number, sizeof card->number);
    explicit_bzero (card->cvc, sizeof card->cvc);
}
