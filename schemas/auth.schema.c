//  auth.schema.c — the auth service: accounts (email + Argon2id password), sign-in with short
//  access tokens the edge verifies itself and rotating refresh tokens, roles. docs/auth.md
//  explains tokens, keys, rate limits and the storage layout.
#include "vmsg.h"
#include "vbus.h"

//  Passwords are checked in code points (8..128) by the actor; here only their byte ceiling
//  (128 four-byte characters), so a short password gets the policy's message, not the codec's.
#define AUTH_PASSWORD_BYTES 512
#define AUTH_TOKEN_BYTES    512
#define AUTH_EMAIL_BYTES    320  //  as typed, before trimming; 254 once normalised
#define AUTH_NAME_BYTES     400  //  100 characters of up to 4 bytes

//  ---------------------------------------------------------------- shared shapes
static const vmsg_field_t s_user_fields[] = {
    { "user_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VBUS_MAX_USER), .doc = "the user's id" },
    { "email", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, 254),
      .doc = "normalised address (trimmed, lowercase)" },
    { "name", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, AUTH_NAME_BYTES), .doc = "display name" },
    { "roles", VMSG_UINT, VMSG_REQUIRED, VMSG_MAX (0xffffffffu),
      .doc = "role bits: 1 customer, 2 admin" },
    { "created_at", VMSG_INT, VMSG_REQUIRED, .doc = "when the account was made, Unix ms" },
    { 0 }
};
static const vmsg_schema_t s_user = { "auth.user", s_user_fields, .doc = "A user account." };

static const vmsg_field_t s_tokens_fields[] = {
    { "access_token", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, AUTH_TOKEN_BYTES),
      .doc = "signed token for the Authorization header (15 minutes)" },
    { "expires_at", VMSG_INT, VMSG_REQUIRED, .doc = "when the access token expires, Unix ms" },
    { "refresh_token", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, AUTH_TOKEN_BYTES),
      .doc = "one-use token for auth.refresh (30 days); keep it secret" },
    { "refresh_expires_at", VMSG_INT, VMSG_REQUIRED,
      .doc = "when the refresh token expires, Unix ms" },
    { "user", VMSG_MSG, VMSG_REQUIRED, .schema = &s_user, .doc = "who signed in" },
    { 0 }
};
static const vmsg_schema_t s_tokens = { "auth.tokens", s_tokens_fields,
                                        .doc = "A new access token and refresh token." };

//  ---------------------------------------------------------------- auth.register
static const vmsg_field_t s_register_request_fields[] = {
    { "email", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, AUTH_EMAIL_BYTES),
      .doc = "email address; trimmed and lowercased; unique" },
    { "password", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, AUTH_PASSWORD_BYTES),
      .doc = "8 to 128 characters, not a common password" },
    { "name", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, AUTH_NAME_BYTES), .doc = "display name" },
    { 0 }
};
static const vmsg_schema_t s_register_request = { "auth.register.request",
                                                  s_register_request_fields,
                                                  .doc = "A new customer account." };

//  ---------------------------------------------------------------- auth.login
static const vmsg_field_t s_login_request_fields[] = {
    { "email", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, AUTH_EMAIL_BYTES), .doc = "email address" },
    { "password", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, AUTH_PASSWORD_BYTES), .doc = "password" },
    { "client_addr", VMSG_STR, VMSG_LEN (0, 64),
      .doc = "the client's network address, set by the HTTP edge (rate limiting)" },
    { 0 }
};
static const vmsg_schema_t s_login_request = { "auth.login.request", s_login_request_fields,
                                               .doc = "Credentials." };

//  ---------------------------------------------------------------- auth.refresh / logout
static const vmsg_field_t s_refresh_request_fields[] = {
    { "refresh_token", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, AUTH_TOKEN_BYTES),
      .doc = "the refresh token last issued" },
    { "client_addr", VMSG_STR, VMSG_LEN (0, 64), .doc = "the client's network address" },
    { 0 }
};
static const vmsg_schema_t s_refresh_request = { "auth.refresh.request", s_refresh_request_fields,
                                                 .doc = "A refresh token to exchange." };

static const vmsg_field_t s_logout_request_fields[] = { { "refresh_token", VMSG_STR, VMSG_REQUIRED,
                                                          VMSG_LEN (1, AUTH_TOKEN_BYTES),
                                                          .doc = "the session's refresh token" },
                                                        { 0 } };
static const vmsg_schema_t s_logout_request = { "auth.logout.request", s_logout_request_fields,
                                                .doc = "The session to end." };

//  ---------------------------------------------------------------- auth.change_password
static const vmsg_field_t s_change_password_request_fields[] = {
    { "old_password", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, AUTH_PASSWORD_BYTES),
      .doc = "the current password" },
    { "new_password", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, AUTH_PASSWORD_BYTES),
      .doc = "8 to 128 characters, not a common password" },
    { 0 }
};
static const vmsg_schema_t s_change_password_request = {
    "auth.change_password.request", s_change_password_request_fields,
    .doc = "The current password and the new one."
};

//  ---------------------------------------------------------------- auth.list_users
static const vmsg_field_t s_list_users_request_fields[] = {
    { "cursor", VMSG_STR, VMSG_LEN (0, VBUS_MAX_USER),
      .doc = "next_cursor of the previous page; absent for the first" },
    { "limit", VMSG_UINT, VMSG_RANGE (1, 100), .doc = "users per page (default 50)" },
    { 0 }
};
static const vmsg_schema_t s_list_users_request = { "auth.list_users.request",
                                                    s_list_users_request_fields,
                                                    .doc = "A page of users, by user id." };
static const vmsg_field_t s_list_users_reply_fields[] = {
    { "users", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, 100), .schema = &s_user,
      .doc = "users in id order" },
    { "next_cursor", VMSG_STR, VMSG_LEN (1, VBUS_MAX_USER),
      .doc = "pass it to get the next page; absent on the last page" },
    { 0 }
};
static const vmsg_schema_t s_list_users_reply = { "auth.list_users.reply",
                                                  s_list_users_reply_fields,
                                                  .doc = "One page of users." };

//  ---------------------------------------------------------------- events
static const vmsg_field_t s_user_registered_fields[] = {
    { "user_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VBUS_MAX_USER), .doc = "the new user" },
    { "email", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, 254), .doc = "normalised address" },
    { "at", VMSG_INT, VMSG_REQUIRED, .doc = "when, Unix ms" },
    { 0 }
};
static const vmsg_schema_t s_user_registered = { "auth.user_registered", s_user_registered_fields,
                                                 .doc = "A customer account was created." };
static const vmsg_field_t s_logged_in_fields[] = {
    { "user_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VBUS_MAX_USER), .doc = "who" },
    { "at", VMSG_INT, VMSG_REQUIRED, .doc = "when, Unix ms" },
    { 0 }
};
static const vmsg_schema_t s_logged_in = { "auth.logged_in", s_logged_in_fields,
                                           .doc = "A user signed in with a password." };

//  ---------------------------------------------------------------- the domain
#define S_SIGNED_IN (VMSG_ROLE_CUSTOMER | VMSG_ROLE_ADMIN)

static const vmsg_method_t s_methods[] = {
    { "auth", "register", &s_register_request, &s_user, VMSG_ROLE_PUBLIC,
      "Creates a customer account; conflict when the address is taken." },
    { "auth", "login", &s_login_request, &s_tokens, VMSG_ROLE_PUBLIC,
      "Signs in; unauthorized on bad credentials, busy (rate limited) after 10 failures in 15 "
      "minutes per account or client address." },
    { "auth", "refresh", &s_refresh_request, &s_tokens, VMSG_ROLE_PUBLIC,
      "Exchanges a refresh token for a new pair; presenting a used one ends its whole session." },
    { "auth", "logout", &s_logout_request, &vmsg_empty, VMSG_ROLE_PUBLIC,
      "Ends the session the refresh token belongs to." },
    { "auth", "me", &vmsg_empty, &s_user, S_SIGNED_IN, "The caller's own account." },
    { "auth", "change_password", &s_change_password_request, &vmsg_empty, S_SIGNED_IN,
      "Changes the caller's password and ends all of its sessions." },
    { "auth", "list_users", &s_list_users_request, &s_list_users_reply, VMSG_ROLE_ADMIN,
      "Pages through all users (admin)." },
    { 0 }
};

static const vmsg_event_t s_events[] = {
    { "auth.user_registered", &s_user_registered, "Published by auth.register." },
    { "auth.logged_in", &s_logged_in, "Published by auth.login on success." },
    { 0 }
};

const vmsg_domain_t vmsg_domain_auth = {
    "auth", s_methods, s_events,
    "Accounts, passwords (Argon2id), access and refresh tokens, roles (docs/auth.md)."
};
