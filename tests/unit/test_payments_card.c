//  test_payments_card.c — the card checks of the payments actor: Luhn (against a brute-force
//  check digit), expiry at a given "now", CVC format, brand by prefix, and that no error
//  message ever quotes the number.
#include "payments_card.h"
#include "verr.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

//  2026-03-15T12:00:00Z
#define NOW_MS 1773576000000LL

static void
test_luhn (void **state)
{
    (void) state;
    assert_true (payments_card_luhn ("4242424242424242"));
    assert_true (payments_card_luhn ("4000000000000002"));
    assert_true (payments_card_luhn ("4000000000009995"));
    assert_true (payments_card_luhn ("4000000000000341"));
    assert_true (payments_card_luhn ("5555555555554444"));
    assert_true (payments_card_luhn ("378282246310005"));
    assert_false (payments_card_luhn ("4242424242424241"));
    assert_false (payments_card_luhn ("4242424242424243"));
    assert_false (payments_card_luhn (""));
    assert_false (payments_card_luhn ("42424242424242a2"));
    //  Exactly one check digit in ten passes, for many prefixes: the rule, not a list.
    char number[20];
    for (int p = 0; p < 2000; p++) {
        int passes = 0;
        for (int d = 0; d < 10; d++) {
            snprintf (number, sizeof number, "4%014d%d", p * 7919, d);
            passes += payments_card_luhn (number);
        }
        assert_int_equal (passes, 1);
    }
}

static void
test_brand (void **state)
{
    (void) state;
    assert_string_equal (payments_card_brand ("4242424242424242"), "visa");
    assert_string_equal (payments_card_brand ("5555555555554444"), "mastercard");
    assert_string_equal (payments_card_brand ("5105105105105100"), "mastercard");
    assert_string_equal (payments_card_brand ("2223003122003222"), "mastercard");
    assert_string_equal (payments_card_brand ("2720990000000007"), "mastercard");
    assert_string_equal (payments_card_brand ("2721000000000005"), "other");
    assert_string_equal (payments_card_brand ("378282246310005"), "amex");
    assert_string_equal (payments_card_brand ("341111111111111"), "amex");
    assert_string_equal (payments_card_brand ("6011111111111117"), "other");
    assert_string_equal (payments_card_brand ("5600000000000003"), "other");
}

static void
test_expiry (void **state)
{
    (void) state;
    assert_false (payments_card_expired (3, 2026, NOW_MS));  //  good through March's end
    assert_true (payments_card_expired (2, 2026, NOW_MS));
    assert_false (payments_card_expired (1, 2027, NOW_MS));
    assert_true (payments_card_expired (12, 2025, NOW_MS));
    //  At the first millisecond of April the March card is past.
    assert_true (payments_card_expired (3, 2026, 1775001600000LL));
    assert_false (payments_card_expired (3, 2026, 1775001600000LL - 1));
}

static void
test_cvc (void **state)
{
    (void) state;
    assert_true (payments_card_cvc_ok ("123"));
    assert_true (payments_card_cvc_ok ("1234"));
    assert_false (payments_card_cvc_ok ("12"));
    assert_false (payments_card_cvc_ok ("12345"));
    assert_false (payments_card_cvc_ok ("12a"));
    assert_false (payments_card_cvc_ok (""));
}

//  Parses and returns the status; err gets the message.
static int
s_parse (payments_card_t *card, const char *number, uint32_t month, uint32_t year, const char *cvc,
         char *err, size_t errlen)
{
    err[0] = '\0';
    int rc = payments_card_parse (card, number, month, year, cvc, NULL, NOW_MS, err, errlen);
    //  Whatever happened, the number is not in the message.
    char digits[32] = "";
    size_t n = 0;
    for (const char *p = number; *p && n < sizeof digits - 1; p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    if (n >= 8)
        assert_null (strstr (err, digits));
    return rc;
}

static void
test_parse (void **state)
{
    (void) state;
    payments_card_t card;
    char err[200];
    assert_int_equal (s_parse (&card, "4242 4242-4242 4242", 12, 2030, "123", err, sizeof err), 0);
    assert_string_equal (card.brand, "visa");
    assert_string_equal (card.last4, "4242");
    assert_string_equal (card.number, "4242424242424242");
    assert_int_equal (card.exp_month, 12);
    payments_card_wipe (&card);
    assert_string_equal (card.number, "");
    assert_string_equal (card.cvc, "");
    assert_string_equal (card.last4, "4242");  //  what is kept survives the wipe

    assert_int_equal (s_parse (&card, "4242424242424241", 12, 2030, "123", err, sizeof err),
                      -VE_BAD_REQUEST);
    assert_string_equal (err, "card.number: not a valid card number");
    assert_int_equal (s_parse (&card, "42424242", 12, 2030, "123", err, sizeof err),
                      -VE_BAD_REQUEST);
    assert_string_equal (err, "card.number: expected 12 to 19 digits");
    assert_int_equal (s_parse (&card, "42424242424242424242", 12, 2030, "123", err, sizeof err),
                      -VE_BAD_REQUEST);
    assert_string_equal (err, "card.number: expected 12 to 19 digits");
    assert_int_equal (s_parse (&card, "4242x424242424242", 12, 2030, "123", err, sizeof err),
                      -VE_BAD_REQUEST);
    assert_string_equal (err, "card.number: expected 12 to 19 digits");
    assert_int_equal (s_parse (&card, "4242424242424242", 2, 2026, "123", err, sizeof err),
                      -VE_BAD_REQUEST);
    assert_string_equal (err, "card.exp_month: the card expired at the end of 02/2026");
    assert_int_equal (s_parse (&card, "4242424242424242", 12, 2025, "123", err, sizeof err),
                      -VE_BAD_REQUEST);
    assert_string_equal (err, "card.exp_year: the card expired at the end of 12/2025");
    assert_int_equal (s_parse (&card, "4242424242424242", 12, 2047, "123", err, sizeof err),
                      -VE_BAD_REQUEST);
    assert_string_equal (err, "card.exp_year: more than 20 years ahead");
    assert_int_equal (s_parse (&card, "4242424242424242", 13, 2030, "123", err, sizeof err),
                      -VE_BAD_REQUEST);
    assert_string_equal (err, "card.exp_month: expected 1 to 12");
    assert_int_equal (s_parse (&card, "4242424242424242", 12, 2030, "12", err, sizeof err),
                      -VE_BAD_REQUEST);
    assert_string_equal (err, "card.cvc: expected 3 or 4 digits");
    assert_string_equal (card.number, "");  //  a refused card leaves nothing behind
    assert_int_equal (s_parse (&card, "378282246310005", 3, 2026, "1234", err, sizeof err), 0);
    assert_string_equal (card.brand, "amex");
    assert_string_equal (card.last4, "0005");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_luhn), cmocka_unit_test (test_brand), cmocka_unit_test (test_expiry),
        cmocka_unit_test (test_cvc),  cmocka_unit_test (test_parse),
    };
    return cmocka_run_group_tests_name ("payments card", tests, NULL, NULL);
}
