//  kv.schema.c — the kv service: a small durable key/value store built on the actor runtime.
//  Like echo for the bus, it exists to exercise and measure the runtime with a real process:
//  acknowledged writes, the outbox and its events, replay, and replicas that follow a stream.
#include "vbus.h"
#include "vmsg.h"

static const vmsg_field_t s_put_request_fields[] = {
    { "key", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 200), .doc = "the key" },
    { "value", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, 65536), .doc = "the value" },
    { 0 }
};
static const vmsg_schema_t s_put_request = { "kv.put.request", s_put_request_fields,
                                             .doc = "A value to store." };
static const vmsg_field_t s_version_fields[] = {
    { "version", VMSG_UINT, VMSG_REQUIRED, .doc = "the key's version after the write" }, { 0 }
};
static const vmsg_schema_t s_version = { "kv.version", s_version_fields,
                                         .doc = "The version written." };
static const vmsg_field_t s_key_fields[] = {
    { "key", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 200), .doc = "the key" }, { 0 }
};
static const vmsg_schema_t s_key = { "kv.key", s_key_fields, .doc = "Which key." };
static const vmsg_field_t s_fetch_request_fields[] = {
    { "key", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 200), .doc = "the key" },
    { "from", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VBUS_MAX_SERVICE),
      .doc = "the kv service to copy it from" },
    { 0 }
};
static const vmsg_schema_t s_fetch_request = { "kv.fetch.request", s_fetch_request_fields,
                                               .doc = "What to copy from where." };
static const vmsg_field_t s_get_reply_fields[] = {
    { "value", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, 65536), .doc = "the value" },
    { "version", VMSG_UINT, VMSG_REQUIRED, .doc = "its version" },
    { 0 }
};
static const vmsg_schema_t s_get_reply = { "kv.get.reply", s_get_reply_fields,
                                           .doc = "The value and its version." };
static const vmsg_field_t s_changed_fields[] = {
    { "key", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 200), .doc = "the key" },
    { "value", VMSG_STR, VMSG_LEN (0, 65536), .doc = "absent when deleted" },
    { "version", VMSG_UINT, VMSG_REQUIRED, .doc = "its version after the change" },
    { 0 }
};
static const vmsg_schema_t s_changed = { "kv.changed", s_changed_fields,
                                         .doc = "A key was written or deleted." };

static const vmsg_method_t s_methods[] = {
    { "kv", "put", &s_put_request, &s_version, VMSG_ROLE_SERVICE,
      "Stores a value (durable when answered) and emits kv.changed." },
    { "kv", "put_durable", &s_put_request, &s_version, VMSG_ROLE_SERVICE,
      "put as a sync method: fsync'ed (group commit) before the answer." },
    { "kv", "get", &s_key, &s_get_reply, VMSG_ROLE_SERVICE, "Reads a value; not_found if none." },
    { "kv", "fetch", &s_fetch_request, &s_version, VMSG_ROLE_SERVICE,
      "Copies a key from another kv service (asynchronous call; the actor keeps serving "
      "meanwhile), stores it durably and answers with the local version." },
    { "kv", "delete", &s_key, &s_version, VMSG_ROLE_SERVICE,
      "Deletes a key (not_found if none) and emits kv.changed without a value." },
    { 0 }
};
static const vmsg_event_t s_events[] = {
    { "kv.changed", &s_changed, "Every put and delete, in commit order per partition." }, { 0 }
};

const vmsg_domain_t vmsg_domain_kv = {
    "kv", s_methods, s_events,
    "A test service for the actor runtime: a durable key/value store whose replicas follow its "
    "event stream."
};
