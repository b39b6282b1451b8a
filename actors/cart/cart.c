//  cart.c — the cart actor (service "cart", 4 partitions keyed by cart id): a cart per signed-in
//  user ("u:<user id>") and guest carts ("g:<22 random characters>") merged into the user's
//  at sign-in. Who may touch a cart is decided here, from the caller in the request's header.
//  Methods that need other actors (add, merge, and every reply that prices the cart) defer
//  their call to a job (cart_job.c), so the actor's thread never waits on a peer.
#include "cart.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define GUEST_CHARS 22  //  × 6 bits = 132 bits from the kernel's generator: not guessable

static const char s_url_safe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static bool
s_guest_id_ok (const char *id)
{
    if (strncmp (id, "g:", 2) != 0 || strlen (id + 2) != GUEST_CHARS)
        return false;
    for (const char *c = id + 2; *c; c++)
        if (!memchr (s_url_safe, *c, sizeof s_url_safe - 1))
            return false;
    return true;
}

//  The cart named by field in the request: its id well formed, the request in the cart's
//  partition (keyed by the cart id, or the cart would be split over stores), and the caller
//  allowed. A "u:" cart is its user's (and admins' and services'); anyone else is told it does
//  not exist, so a probe learns nothing. A "g:" cart's id is its capability: whoever holds it.
//  Returns VE_OK or the error written to the reply.
static int
s_open (vactor_call_t *call, const char *field, const char *id)
{
    if (!cart_user_of (id) && !s_guest_id_ok (id))
        return vbus_out_error (call->out, VE_BAD_REQUEST,
                               "%s: expected u:<user id> or g:<%d characters of A-Z a-z 0-9 - _>",
                               field, GUEST_CHARS);
    const vbus_caller_t *caller = &call->req->caller;
    const char *user = cart_user_of (id);
    if (user && !(caller->roles & (VBUS_ROLE_ADMIN | VBUS_ROLE_SERVICE))
        && strcmp (caller->user_id, user) != 0)
        return vbus_out_error (call->out, VE_NOT_FOUND, "%s: no cart '%s'", field, id);
    uint32_t partition = vbus_partition (id, strlen (id), vactor_partitions (call->actor));
    if (partition != call->partition)
        return vbus_out_error (call->out, VE_BAD_REQUEST,
                               "%s: key the request by the cart id (it is in partition %u, the "
                               "request came to %u)",
                               field, partition, call->partition);
    return VE_OK;
}

static int
s_load (vactor_call_t *call, const char *id, cart_t *cart)
{
    int rc = cart_load (vactor_state (call->actor), call->store, call->arena, id, cart);
    if (rc)
        return vbus_out_error (call->out, VE_INTERNAL, "cannot read cart '%s': %s", id,
                               verr_str (-rc));
    return VE_OK;
}

static void
s_start (vactor_call_t *call, void *arg)
{
    cart_job_spec_t *spec = arg;
    if (cart_job_start (call->actor, spec) != 0)
        //  Only out of memory; the call cannot be answered from here (it is being deferred),
        //  so the broker answers it at its deadline.
        vbus_log ('E', "cart", "cart.%s: out of memory, the call is left to time out",
                  spec->defer.method);
}

//  Defers the call to a job that starts once the handler's writes are committed (a failed
//  commit answers the call with internal and starts nothing).
static int
s_defer (vactor_call_t *call, cart_job_kind_t kind, const char *cart_id, const char *product_id,
         int64_t qty, const char *guest_id)
{
    cart_job_spec_t *spec = varena_alloc (call->arena, sizeof *spec);
    if (!spec)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    *spec = (cart_job_spec_t) { .kind = kind,
                                .partition = call->partition,
                                .cart_id = cart_id,
                                .product_id = product_id,
                                .qty = qty,
                                .guest_id = guest_id,
                                //  cart.get's stock: false (only its request has the field)
                                .no_stock = !vmsg_bool (call->body, "stock", true) };
    vactor_defer (call, &spec->defer);
    vactor_after_commit (call, s_start, spec);
    return VBUS_DEFERRED;
}

//  The reply of every method that changes or reads a cart: priced by a job, or at once when
//  there is nothing to price.
static int
s_reply_priced (vactor_call_t *call, const cart_t *cart)
{
    if (cart->nlines == 0) {
        cart_pack_empty (&call->out->pk, cart);
        return VE_OK;
    }
    return s_defer (call, CART_JOB_PRICE, cart->id, NULL, 0, NULL);
}

//  ---------------------------------------------------------------- methods

static int
cart_new_guest (vactor_call_t *call)
{
    uint8_t raw[GUEST_CHARS];
    if (getrandom (raw, sizeof raw, 0) != (ssize_t) sizeof raw)
        return vbus_out_error (call->out, VE_INTERNAL, "no random bytes: %s", strerror (errno));
    char id[2 + GUEST_CHARS + 1] = "g:";
    for (int i = 0; i < GUEST_CHARS; i++)
        id[2 + i] = s_url_safe[raw[i] & 63];
    id[2 + GUEST_CHARS] = 0;
    msgpack_pack_map (&call->out->pk, 1);
    vmp_pack_kstr (&call->out->pk, "cart_id", id);
    return VE_OK;
}

static int
cart_get (vactor_call_t *call)
{
    const char *id = vmsg_str (call->body, "cart_id");
    cart_t cart = { 0 };
    int status = s_open (call, "cart_id", id);
    if (!status)
        status = s_load (call, id, &cart);
    return status ? status : s_reply_priced (call, &cart);
}

static int
cart_add (vactor_call_t *call)
{
    const char *id = vmsg_str (call->body, "cart_id");
    const char *product_id = vmsg_str (call->body, "product_id");
    int64_t qty = vmsg_int (call->body, "qty", 0);
    cart_t cart = { 0 };
    int status = s_open (call, "cart_id", id);
    if (!status)
        status = s_load (call, id, &cart);
    if (status)
        return status;
    //  Refuse what the limits refuse before asking the catalog; the transaction after the
    //  lookup checks again on the cart as it is then.
    char err[256];
    status = cart_check_add (vactor_state (call->actor), &cart, product_id, qty, err, sizeof err);
    if (status)
        return vbus_out_error (call->out, status, "%s", err);
    return s_defer (call, CART_JOB_ADD, id, product_id, qty, NULL);
}

//  set_qty and remove: the line's new quantity (0 removes it), written here (no lookup needed),
//  with the event for the units that went in or out.
static int
s_set_line (vactor_call_t *call, const char *id, const char *product_id, int64_t qty,
            bool must_exist)
{
    cart_t cart = { 0 };
    int status = s_open (call, "cart_id", id);
    if (!status)
        status = s_load (call, id, &cart);
    if (status)
        return status;
    int i = cart_find (&cart, product_id);
    if (i < 0 && qty > 0 && must_exist)
        return vbus_out_error (call->out, VE_NOT_FOUND,
                               "product_id: '%s' is not in the cart (add puts it in)", product_id);
    if (i >= 0 && qty != cart.lines[i].qty) {
        cart_line_t line = cart.lines[i];
        int rc = qty > line.qty ? cart_emit_added (call, &cart, &line, qty - line.qty)
                                : cart_emit_removed (call, &cart, product_id, line.qty - qty);
        if (qty == 0)
            cart_remove_at (&cart, (uint32_t) i);
        else
            cart.lines[i].qty = qty;
        if (rc || cart_save (call, &cart))
            return vbus_out_error (call->out, VE_INTERNAL, "cannot write cart '%s'", id);
    }
    return s_reply_priced (call, &cart);
}

static int
cart_set_qty (vactor_call_t *call)
{
    return s_set_line (call, vmsg_str (call->body, "cart_id"), vmsg_str (call->body, "product_id"),
                       vmsg_int (call->body, "qty", 0), true);
}

static int
cart_remove (vactor_call_t *call)
{
    return s_set_line (call, vmsg_str (call->body, "cart_id"), vmsg_str (call->body, "product_id"),
                       0, false);
}

static int
cart_clear (vactor_call_t *call)
{
    const char *id = vmsg_str (call->body, "cart_id");
    cart_t cart = { 0 };
    int status = s_open (call, "cart_id", id);
    if (!status)
        status = s_load (call, id, &cart);
    if (status)
        return status;
    if (cart.nlines) {
        cart.nlines = 0;
        if (cart_emit_cleared (call, &cart) || cart_save (call, &cart))
            return vbus_out_error (call->out, VE_INTERNAL, "cannot write cart '%s'", id);
    }
    cart_pack_empty (&call->out->pk, &cart);
    return VE_OK;
}

static int
cart_merge (vactor_call_t *call)
{
    const char *id = vmsg_str (call->body, "cart_id");
    const char *guest = vmsg_str (call->body, "guest_cart_id");
    int status = s_open (call, "cart_id", id);
    if (status)
        return status;
    if (!cart_user_of (id))
        return vbus_out_error (call->out, VE_BAD_REQUEST,
                               "cart_id: a merge goes into a user's cart, u:<user id>");
    if (!s_guest_id_ok (guest))
        return vbus_out_error (call->out, VE_BAD_REQUEST,
                               "guest_cart_id: expected g:<%d characters of A-Z a-z 0-9 - _>",
                               GUEST_CHARS);
    return s_defer (call, CART_JOB_MERGE, id, NULL, 0, guest);
}

//  Hands a cart's lines to the caller (merge, through the bus) and deletes it in the same
//  commit; a second take finds nothing, so a retried merge adds nothing twice.
static int
cart_take (vactor_call_t *call)
{
    const char *id = vmsg_str (call->body, "cart_id");
    cart_t cart = { 0 };
    int status = s_open (call, "cart_id", id);
    if (!status)
        status = s_load (call, id, &cart);
    if (status)
        return status;
    cart_pack_taken (&call->out->pk, &cart);
    if (cart.nlines) {
        cart.nlines = 0;
        if (cart_emit_cleared (call, &cart) || cart_save (call, &cart))
            return vbus_out_error (call->out, VE_INTERNAL, "cannot write cart '%s'", id);
    }
    return VE_OK;
}

//  ---------------------------------------------------------------- life

//  A field of a method's request or reply schema; NULL when missing.
static const vmsg_field_t *
s_field (const char *method, bool reply, const char *name)
{
    const vmsg_method_t *m = vmsg_method_find ("cart", method);
    const vmsg_schema_t *schema = m ? (reply ? m->reply : m->request) : NULL;
    for (const vmsg_field_t *f = schema ? schema->fields : NULL; f && f->name; f++)
        if (strcmp (f->name, name) == 0)
            return f;
    return NULL;
}

static int
cart_open (vactor_t *actor)
{
    cart_actor_t *self = calloc (1, sizeof *self);
    if (!self)
        return -VE_NOMEM;
    vactor_set_state (actor, self);
    //  The limits are the schema's (stated once, in schemas/cart.schema.c).
    const vmsg_field_t *qty = s_field ("add", false, "qty");
    const vmsg_field_t *lines = s_field ("get", true, "lines");
    const vmsg_method_t *products = vmsg_method_find ("catalog", "get_many");
    const vmsg_method_t *taken = vmsg_method_find ("cart", "take");
    const vmsg_method_t *stock = vmsg_method_find ("inventory", "get");
    //  Our own tables: a missing one is a bug of this build, not a bad input.
    if (!qty || !qty->has_max || !lines || !lines->max_count || !products || !taken) {
        vbus_log ('E', "cart", "the cart, catalog.get_many or cart.take schema is not as expected");
        return -VE_CONFIG;
    }
    self->max_qty = (int64_t) qty->max;
    self->max_lines = lines->max_count;
    self->products = products->reply;
    self->taken = taken->reply;
    self->stock = stock ? stock->reply : NULL;
    for (const vmsg_field_t *fl = products->reply->fields; fl->name; fl++)
        if (strcmp (fl->name, "products") == 0)
            self->product = fl->schema;
    long cached, ttl;
    if (vactor_config_long (actor, "lookup_timeout_ms", 10, 60000, 2000, &self->lookup_ms)
        || vactor_config_long (actor, "stock_timeout_ms", 10, 60000, 500, &self->stock_ms)
        || vactor_config_long (actor, "products_cached", 0, 10000000, 100000, &cached)
        || vactor_config_long (actor, "products_ttl_ms", 100, 86400000, 60000, &ttl))
        return -VE_CONFIG;
    if (!self->product) {
        vbus_log ('E', "cart", "catalog.get_many's reply has no products of a schema");
        return -VE_CONFIG;
    }
    if (!(self->view = cart_products_new ((size_t) cached, ttl)))
        return -VE_NOMEM;
    return 0;
}

static void
cart_close (vactor_t *actor)
{
    cart_on_wake (actor);  //  answers what is still waiting (nothing, after a drain)
    cart_actor_t *self = vactor_state (actor);
    if (self)
        cart_products_destroy (&self->view);
    free (self);
    vactor_set_state (actor, NULL);
}

static const vactor_method_t s_methods[] = { { "new_guest", cart_new_guest, false },
                                             { "get", cart_get, false },
                                             { "add", cart_add, false },
                                             { "set_qty", cart_set_qty, false },
                                             { "remove", cart_remove, false },
                                             { "clear", cart_clear, false },
                                             { "merge", cart_merge, false },
                                             { "take", cart_take, false },
                                             { 0 } };
static const char *const s_cfs[] = { "carts", "stock", NULL };
static const char *const s_consumes[] = { "inventory.stock_changed", "catalog.product_changed",
                                          NULL };

//  inventory.stock_changed into the stock view (cart_stock_note); catalog.product_changed into
//  the product view (in memory: nothing to write).
static int
cart_on_event (vactor_t *actor, const vbus_event_t *event, const vmsg_value_t *body,
               vstore_t *store, vstore_batch_t *batch)
{
    if (strcmp (event->topic, "catalog.product_changed") == 0) {
        cart_actor_t *self = vactor_state (actor);
        const vmsg_value_t *p = vmsg_get (body, "product");
        vbuf_t raw;
        vbuf_init (&raw, NULL, 0);
        int rc = vmsg_encode (self->product, p, &raw, NULL, 0);
        //  A product it cannot keep as it is now is forgotten: asked of the catalog next time.
        rc = cart_products_changed (self->view, vmsg_str (p, "id"), rc ? NULL : raw.data,
                                    raw.len, vactor_now_ms (actor));
        vbuf_free (&raw);
        return rc;
    }
    if (strcmp (event->topic, "inventory.stock_changed") != 0)
        return 0;
    return cart_stock_note (store, batch, vmsg_str (body, "sku"), vmsg_int (body, "available", 0));
}
static const char *const s_config_keys[] = { "lookup_timeout_ms", "stock_timeout_ms",
                                             "products_cached", "products_ttl_ms", NULL };

static const vactor_def_t s_def = { .service = "cart",
                                    .methods = s_methods,
                                    .column_families = s_cfs,
                                    .partitions = 4,
                                    .config_keys = s_config_keys,
                                    .open = cart_open,
                                    .close = cart_close,
                                    .consumes = s_consumes,
                                    .on_event = cart_on_event,
                                    .on_wake = cart_on_wake };

int
main (int argc, char **argv)
{
    return vactor_main (&s_def, argc, argv);
}
