//  echo.schema.c — the echo service: a worker that answers with what it was sent. It exists to
//  test and measure the bus (latency, errors, identity, keyed routing, events).
#include "vmsg.h"
#include "vbus.h"

//  ---------------------------------------------------------------- echo.echo
static const vmsg_field_t s_echo_request_fields[] = {
    { "text", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, 65536), .doc = "text to send back" },
    { "delay_ms", VMSG_UINT, VMSG_MAX (60000), .doc = "wait this long before answering" },
    { 0 }
};
static const vmsg_schema_t s_echo_request = { "echo.echo.request", s_echo_request_fields,
                                              .doc = "What to echo." };
static const vmsg_field_t s_echo_reply_fields[] = {
    { "text", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, 65536), .doc = "the request's text" },
    { "worker", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, 128), .doc = "name of the worker" },
    { 0 }
};
static const vmsg_schema_t s_echo_reply = { "echo.echo.reply", s_echo_reply_fields,
                                            .doc = "The text, and who echoed it." };

//  ---------------------------------------------------------------- echo.fail
static const vmsg_field_t s_fail_request_fields[] = {
    { "status", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 32),
      .doc = "wire status name to answer with (\"not_found\", \"busy\", ...)" },
    { "message", VMSG_STR, VMSG_LEN (0, 200), .doc = "error message to answer with" },
    { 0 }
};
static const vmsg_schema_t s_fail_request = { "echo.fail.request", s_fail_request_fields,
                                              .doc = "Which error to answer with." };

//  ---------------------------------------------------------------- echo.whoami
static const vmsg_field_t s_whoami_reply_fields[] = {
    { "user_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, VBUS_MAX_USER),
      .doc = "caller's user id; \"\" when anonymous" },
    { "roles", VMSG_UINT, VMSG_REQUIRED, VMSG_MAX (0xffffffffu), .doc = "caller's role bits" },
    { "trace_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, VBUS_MAX_TRACE),
      .doc = "the request's trace id" },
    { "key", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, VBUS_MAX_KEY),
      .doc = "the request's partition key; \"\" when unkeyed" },
    { "partition", VMSG_UINT, VMSG_REQUIRED, VMSG_MAX (VBUS_MAX_PARTITIONS - 1),
      .doc = "the partition the key maps to (0 when unkeyed)" },
    { 0 }
};
static const vmsg_schema_t s_whoami_reply = { "echo.whoami.reply", s_whoami_reply_fields,
                                              .doc =
                                                  "The request's envelope, as the worker saw it." };

//  ---------------------------------------------------------------- events
static const vmsg_field_t s_said_fields[] = {
    { "text", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, 65536), .doc = "the text echoed" }, { 0 }
};
static const vmsg_schema_t s_said = { "echo.said", s_said_fields, .doc = "Something was echoed." };

//  ---------------------------------------------------------------- the domain
static const vmsg_method_t s_methods[] = {
    { "echo", "echo", &s_echo_request, &s_echo_reply, VMSG_ROLE_PUBLIC,
      "Answers with the text, after delay_ms." },
    { "echo", "later", &s_echo_request, &s_echo_reply, VMSG_ROLE_PUBLIC,
      "Like echo, but answers after delay_ms without blocking the worker (a deferred reply)." },
    { "echo", "fail", &s_fail_request, &vmsg_empty, VMSG_ROLE_PUBLIC,
      "Answers with the given error status and message (tests error paths)." },
    { "echo", "whoami", &vmsg_empty, &s_whoami_reply, VMSG_ROLE_PUBLIC,
      "Answers with the caller identity, trace id, key and partition it received." },
    { 0 }
};

static const vmsg_event_t s_events[] = {
    { "echo.said", &s_said, "Published by echo.echo for every text it echoes." }, { 0 }
};

const vmsg_domain_t vmsg_domain_echo = {
    "echo", s_methods, s_events, "A test service: echoes text, fails on request, tells who called."
};
