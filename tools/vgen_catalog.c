//  vgen_catalog.c — the deterministic demo catalog (see vgen_catalog.h).
//  Each product draws from a splitmix64 stream seeded by its index, so any product can be made
//  alone, in any order, on any thread. A product is composed, never sampled word by word: its
//  kind (a leaf category's "Bar Stool" or "Dining Chair") gives the attribute tables, the
//  material picks the colours that exist in it (no "cognac mesh"), the title is built from the
//  values drawn, and the description is 2–4 sentences of its category's grammar with the
//  values in the slots. So a title never contradicts its attributes, a description never
//  names another category's product, and the scene hint carries what the renderer needs.
#include "vgen_catalog.h"
#include "vhash.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define N_(a) (sizeof (a) / sizeof ((a)[0]))

typedef struct {
    uint64_t s;
} s_rng_t;

static uint64_t
s_next (s_rng_t *r)
{
    return vhash_splitmix64 (&r->s);
}

//  Uniform in [0, n).
static uint32_t
s_below (s_rng_t *r, uint32_t n)
{
    return (uint32_t) (((s_next (r) >> 32) * (uint64_t) n) >> 32);
}

//  Uniform in [0, 1).
static double
s_unit (s_rng_t *r)
{
    return (double) (s_next (r) >> 11) * 0x1.0p-53;
}

//  Skewed pick in [0, n): a power of a uniform favours the first entries (the common colours
//  and materials come first), so frequencies fall off like a mild Zipf law.
static uint32_t
s_mild (s_rng_t *r, uint32_t n)
{
    return (uint32_t) (pow (s_unit (r), 1.4) * n);
}

//  NULL-terminated lists of static strings.
#define L(...) ((const char *const[]) { __VA_ARGS__, NULL })

//  ---------------------------------------------------------------- attributes
//  A material and the colours it comes in (every colour is one of the renderer's named colours,
//  render-cuda/vdemo_scenes.c). title: the word in titles ("Wooden"); NULL: the name itself.
typedef struct {
    const char *name;
    const char *title;
    const char *const *colours;
} s_material_t;

//  An attribute beyond colour and material; present only when the product's attribute
//  when_key has the value when_value (battery life only for wireless headphones).
typedef struct {
    const char *key;
    const char *const *values;
    const char *when_key, *when_value;
} s_attr_t;

#define C_UPHOLSTERY                                                                               \
    L ("grey", "black", "beige", "navy", "green", "blue", "charcoal", "cream", "teal", "olive",    \
       "mustard", "pink", "burgundy", "red", "brown")
#define C_LEATHER L ("black", "brown", "cognac", "tan", "grey", "burgundy")
#define C_SOFT    L ("cream", "grey", "beige", "white", "sand", "olive")  //  boucle, linen
#define C_WOOD    L ("oak", "walnut", "white", "black", "teak")
#define C_PLASTIC L ("white", "black", "grey", "green", "blue", "red", "pink", "yellow")
#define C_METAL   L ("black", "white", "brass", "chrome", "green")
#define C_MARBLE  L ("white", "black", "grey")
#define C_MESH    L ("black", "grey", "navy", "blue", "white")
#define C_TECH    L ("black", "white", "silver", "graphite", "blue", "green", "pink")
#define C_LAPTOP  L ("silver", "graphite", "black", "gold")
#define C_AUDIO   L ("black", "white", "silver", "navy", "beige", "green")
#define C_FASHION                                                                                  \
    L ("black", "white", "navy", "grey", "blue", "beige", "red", "green", "olive", "khaki",        \
       "burgundy", "cream", "brown", "pink", "yellow")
#define C_SHOE  L ("black", "brown", "tan", "cognac", "burgundy", "white")
#define C_SUEDE L ("brown", "tan", "grey", "navy", "olive", "black")
#define C_DENIM L ("blue", "navy", "black", "grey")
#define C_FRAME L ("gold", "silver", "black")

#define M_(name, title, colours) (&(const s_material_t) { name, title, colours })
#define M_LEATHER                M_ ("leather", NULL, C_LEATHER)
#define M_FABRIC                 M_ ("fabric", NULL, C_UPHOLSTERY)
#define M_VELVET                 M_ ("velvet", NULL, C_UPHOLSTERY)
#define M_BOUCLE                 M_ ("boucle", NULL, C_SOFT)
#define M_LINEN                  M_ ("linen", NULL, C_SOFT)
#define M_MESH                   M_ ("mesh", NULL, C_MESH)
#define M_WOOD                   M_ ("wood", "wooden", C_WOOD)
#define M_RATTAN                 M_ ("rattan", NULL, L ("natural", "black"))
#define M_PLASTIC                M_ ("plastic", NULL, C_PLASTIC)
#define M_METAL                  M_ ("metal", NULL, C_METAL)
#define M_MARBLE                 M_ ("marble", NULL, C_MARBLE)
#define M_ALU                    M_ ("aluminium", NULL, C_TECH)
#define M_FASHION_LEATHER        M_ ("leather", NULL, C_SHOE)
#define M_SUEDE                  M_ ("suede", NULL, C_SUEDE)
#define M_CANVAS                 M_ ("canvas", NULL, C_FASHION)
#define M_COTTON                 M_ ("cotton", NULL, C_FASHION)
#define M_CLOTH_LINEN            M_ ("linen", NULL, L ("white", "beige", "sand", "navy", "olive", "blue"))
#define M_WOOL                   M_ ("wool", NULL, L ("grey", "navy", "black", "camel", "charcoal", "burgundy"))
#define M_CASHMERE               M_ ("cashmere", NULL, L ("camel", "grey", "navy", "cream", "black"))
#define M_SILK                   M_ ("silk", NULL, L ("cream", "black", "navy", "pink", "green", "burgundy"))
#define M_SATIN                  M_ ("satin", NULL, L ("black", "burgundy", "green", "pink", "cream"))
#define M_DENIM                  M_ ("denim", NULL, C_DENIM)
#define M_NYLON                  M_ ("nylon", NULL, C_FASHION)
#define M_POLYESTER              M_ ("polyester", NULL, C_FASHION)

#define A_(key, values) (&(const s_attr_t) { key, values, NULL, NULL })
#define A_SIZE_CLOTHES  A_ ("size", L ("M", "S", "L", "XL", "XS", "XXL"))
#define A_SIZE_SHOES                                                                               \
    A_ ("size", L ("41", "42", "40", "43", "39", "44", "38", "45", "37", "46", "36"))

//  ---------------------------------------------------------------- grammars
//  Sentences with slots: {noun} (the kind's noun, lower case), {colour}, {material}, any other
//  attribute key ({base}, {storage}); {a} and {A} are "a" or "an" for the next word. A sentence
//  whose slot the product lacks is skipped. A description is one opener, two details and, every
//  other product, a closer: 2–4 sentences.
typedef struct {
    const char *const *openers;
    const char *const *details;
    const char *const *closers;
} s_grammar_t;

#define G_(o, d, c) (&(const s_grammar_t) { o, d, c })

#define CLOSE_HOME                                                                                 \
    L ("Delivered to your door and easy to assemble.", "Made to last for many years.",             \
       "Free delivery and free returns within thirty days.")
#define CLOSE_TECH                                                                                 \
    L ("Covered by a two year warranty.", "Free delivery and free returns within thirty days.",    \
       "Firmware updates arrive for years.")
#define CLOSE_WEAR                                                                                 \
    L ("Free delivery and free returns within thirty days.", "Made to be worn for many seasons.",  \
       "Responsibly made and packed without plastic.")

#define G_OFFICE                                                                                   \
    G_ (L ("{A} {colour} {material} {noun} that swivels on {a} five star {base} base with "        \
           "smooth casters.",                                                                      \
           "{A} {noun} upholstered in {colour} {material}, on {a} five star {base} base.",         \
           "This {noun} pairs {a} {colour} {material} seat and backrest with {a} {base} base on "  \
           "five casters."),                                                                       \
        L ("The curved backrest gives lumbar support through long hours of work.",                 \
           "A gas lift sets the seat height, and the tilt locks where you like it.",               \
           "The {armrests} armrests carry your arms at the right height.",                         \
           "The seat is padded with firm foam that keeps its shape for years.",                    \
           "Its ergonomic shape keeps you sitting upright.",                                       \
           "The backrest is fixed firmly to the seat and flexes as you lean back."),               \
        CLOSE_HOME)
#define G_CHAIR                                                                                    \
    G_ (L ("{A} {colour} {material} {noun} with clean lines and a comfortable seat.",              \
           "This {noun} comes in {colour} {material} and suits a kitchen or a dining room.",       \
           "{A} {noun} in {colour} {material}, shaped for long dinners with friends."),            \
        L ("The frame is sturdy, with joints that are glued and screwed.",                         \
           "Felt pads under the legs protect wooden floors.",                                      \
           "The backrest curves gently to support your back.",                                     \
           "It is light enough to move around and easy to wipe clean.",                            \
           "The seat sits at a comfortable height for eating."),                                   \
        CLOSE_HOME)
#define G_STOOL                                                                                    \
    G_ (L ("{A} {colour} {material} {noun} with a seat height of {height}.",                       \
           "This {noun} has {a} {colour} {material} seat on four slim legs joined by a "           \
           "footrest."),                                                                           \
        L ("The ring footrest gives your feet a place to rest.",                                   \
           "It is the right height for a kitchen island or a bar counter.",                        \
           "Felt pads under the legs protect the floor.",                                          \
           "The seat is shaped for comfort during long conversations."),                           \
        CLOSE_HOME)
#define G_ARMCHAIR                                                                                 \
    G_ (L ("{A} {colour} {material} {noun} with deep cushions and wide arms.",                     \
           "This {noun} is upholstered in {colour} {material} and invites you to sit back."),      \
        L ("The seat cushion is filled with foam and soft fibre.",                                 \
           "Solid wood feet lift it off the floor.",                                               \
           "The high back supports your head and shoulders.",                                      \
           "It fits a reading corner or a quiet room."),                                           \
        CLOSE_HOME)
#define G_SOFA                                                                                     \
    G_ (L ("{A} {colour} {material} {noun} with room for {seaters} people.",                       \
           "{A} {seaters} seater {noun} upholstered in {colour} {material}."),                     \
        L ("Deep seat cushions filled with foam and fibre keep their shape.",                      \
           "The back cushions are soft enough for a film and firm enough for reading.",            \
           "Solid wood feet lift it off the floor for easy cleaning.",                             \
           "The covers are removable and can be cleaned.",                                         \
           "Wide arms are just right for resting your head."),                                     \
        CLOSE_HOME)
#define G_TABLE                                                                                    \
    G_ (L ("{A} {colour} {material} {noun} that seats {seats} people.",                            \
           "This {noun} has {a} {colour} {material} top and room for {seats} people."),            \
        L ("The top is sealed against stains and easy to wipe clean.",                             \
           "Sturdy legs keep it steady on uneven floors.",                                         \
           "The legs sit at the corners, leaving room for knees.",                                 \
           "The edges are rounded for a softer look."),                                            \
        CLOSE_HOME)
#define G_LOW_TABLE                                                                                \
    G_ (L ("{A} {shape} {noun} with {a} {colour} {material} top.",                                 \
           "This {shape} {noun} in {colour} {material} brings order to a living room."),           \
        L ("The top is sealed against stains and rings.",                                          \
           "Sturdy legs keep it steady on rugs and floors.",                                       \
           "It leaves room for a tray, plants and decor.",                                         \
           "It is the right height to reach a cup from your seat."),                               \
        CLOSE_HOME)
#define G_BOOKCASE                                                                                 \
    G_ (L ("{A} {colour} {material} {noun} with {shelves} shelves for books, plants and decor.",   \
           "This {noun} in {colour} {material} has {shelves} sturdy shelves."),                    \
        L ("Each shelf holds up to twenty kilograms.",                                             \
           "A back panel keeps things from sliding off.",                                          \
           "It comes with a wall fixing for safety.",                                              \
           "The shelves are deep enough for large books."),                                        \
        CLOSE_HOME)
#define G_WALL_SHELF                                                                               \
    G_ (L ("{A} {colour} {material} {noun}, {length} long, held by two {brackets} brackets.",      \
           "This {noun} in {colour} {material} rests on two {brackets} brackets."),                \
        L ("Screws and wall plugs are included.", "It holds plants, frames and small decor.",      \
           "Each bracket carries up to ten kilograms.",                                            \
           "It fits in a hallway, a kitchen or a bathroom."),                                      \
        CLOSE_HOME)
#define G_BED                                                                                      \
    G_ (L ("{A} {colour} {material} {noun} for {a} {size} mattress.",                              \
           "This {noun} in {colour} {material} takes {a} {size} mattress."),                       \
        L ("Slats under the mattress let it breathe.",                                             \
           "The headboard is tall enough to lean on while reading.",                               \
           "There is room underneath for storage boxes.", "The mattress is sold separately."),     \
        CLOSE_HOME)
#define G_LAMP                                                                                     \
    G_ (L ("{A} {colour} {material} {noun} with {a} {shade} shade.",                               \
           "This {noun} has {a} {colour} {material} body and {a} {shade} shade."),                 \
        L ("It takes {a} {bulb} bulb and gives a warm, even light.",                               \
           "The shade spreads the light softly across the room.",                                  \
           "A switch on the cable turns it on and off.",                                           \
           "Use a dimmable bulb for a softer glow in the evening."),                               \
        CLOSE_HOME)
#define G_PHONE                                                                                    \
    G_ (L ("{A} {colour} {noun} with {storage} of storage and {a} {screen} OLED display.",         \
           "This {noun} in {colour} has {a} {screen} OLED display and {storage} of storage."),     \
        L ("The battery lasts a full day and charging is fast over USB C.",                        \
           "Photos come out sharp, even in low light.",                                            \
           "Face unlock and a fingerprint sensor keep it secure.",                                 \
           "The aluminium frame and glass back feel solid in the hand.",                           \
           "It is rated against dust and water."),                                                 \
        CLOSE_TECH)
#define G_AUDIO                                                                                    \
    G_ (L ("{A} pair of {colour} {connectivity} {type} {noun}.",                                   \
           "{A} pair of {type} {noun} in {colour}, {connectivity} and light."),                    \
        L ("The battery lasts {battery} and charges over USB C.",                                  \
           "Active noise cancelling quiets trains and busy offices.",                              \
           "They stay comfortable through a long day of listening.",                               \
           "A microphone picks up your voice clearly on calls.",                                   \
           "The drivers give clear voices and deep bass."),                                        \
        CLOSE_TECH)
#define G_SPEAKER                                                                                  \
    G_ (L ("{A} {colour} {noun} with {power} of sound over {connectivity}.",                       \
           "This {noun} in {colour} plays music over {connectivity} with {power} of power."),      \
        L ("Two drivers give clear voices and deep bass.",                                         \
           "Pair two for stereo sound in a larger room.", "It sets up in minutes from the app.",   \
           "Streaming from your favourite music app is built in."),                                \
        CLOSE_TECH)
#define G_LAPTOP                                                                                   \
    G_ (L ("{A} {colour} {noun} with {a} {screen} screen, {memory} of memory and {storage} of "    \
           "storage.",                                                                             \
           "This {noun} in {colour} has {a} {screen} display, {memory} of memory and {storage} "   \
           "of fast storage."),                                                                    \
        L ("The aluminium body is thin and light enough to carry all day.",                        \
           "The backlit keys are quiet and comfortable to type on.",                               \
           "The battery lasts through a working day.",                                             \
           "Two USB C ports charge it and drive an external display.",                             \
           "A fanless design keeps it silent."),                                                   \
        CLOSE_TECH)
#define G_KEYBOARD                                                                                 \
    G_ (L ("{A} {colour} {connectivity} {noun} with {a} {layout} layout.",                         \
           "{A} {connectivity} {noun} in {colour} with {a} {layout} layout."),                     \
        L ("The keys are quiet and have a short, tactile travel.",                                 \
           "Backlit keys glow softly for late hours of work.",                                     \
           "A low profile keeps your wrists at a relaxed angle.",                                  \
           "It works with every major operating system."),                                         \
        CLOSE_TECH)
#define G_MOUSE                                                                                    \
    G_ (L ("{A} {colour} {connectivity} {noun} shaped to fit the hand.",                           \
           "{A} {connectivity} {noun} in {colour}, shaped to fit the hand."),                      \
        L ("The sensor tracks precisely on most surfaces.",                                        \
           "Two side buttons go back and forward.", "Quiet clicks keep the office calm.",          \
           "It works with every major operating system."),                                         \
        CLOSE_TECH)
#define G_WATCH                                                                                    \
    G_ (L ("{A} {noun} with {a} {case} case and {a} {colour} {material} strap.",                   \
           "This {noun} pairs {a} {case} case with {a} {colour} {material} strap."),               \
        L ("It tracks steps, heart rate and sleep.", "It is waterproof to fifty metres.",          \
           "The battery lasts {battery} on one charge.",                                           \
           "Notifications arrive on the wrist with a gentle tap."),                                \
        CLOSE_TECH)
#define G_CAMERA                                                                                   \
    G_ (L ("{A} {colour} {noun} with {a} {resolution} sensor.",                                    \
           "This {noun} in {colour} captures fine detail with {a} {resolution} sensor."),          \
        L ("It records smooth video in 4K at thirty frames a second.",                             \
           "The grip is deep and the dials fall under your fingers.",                              \
           "Image stabilisation keeps handheld shots sharp.",                                      \
           "Wifi sends photos straight to the app."),                                              \
        CLOSE_TECH)
#define G_BULB                                                                                     \
    G_ (L ("{A} {colour} {noun} with {a} {fitting} fitting and {brightness} of light.",            \
           "This {colour} {noun} gives {brightness} of light from {a} {fitting} fitting."),        \
        L ("It connects over {connectivity} and is dimmable from the app.",                        \
           "Schedules switch it on and off while you are away.",                                   \
           "It lasts for years and uses little energy.",                                           \
           "Choose warm white or cool daylight with a tap."),                                      \
        CLOSE_TECH)
#define G_SNEAKER                                                                                  \
    G_ (L ("{A} pair of {colour} {material} {noun} in EU size {size}.",                            \
           "These {noun} come in {colour} {material}, in EU size {size}."),                        \
        L ("The rubber sole grips on wet streets.", "A cushioned insole supports the arch.",       \
           "The padded collar is soft around the ankle.",                                          \
           "They are light enough for a whole day of walking."),                                   \
        CLOSE_WEAR)
#define G_BOOT                                                                                     \
    G_ (L ("{A} pair of {colour} {material} {noun} in EU size {size}.",                            \
           "These {noun} come in {colour} {material}, in EU size {size}."),                        \
        L ("The stitched rubber sole grips on wet streets and trails.",                            \
           "They are made for hiking as well as city walks.",                                      \
           "A pull tab at the heel makes them easy to put on.",                                    \
           "The leather lining keeps feet dry and warm."),                                         \
        CLOSE_WEAR)
#define G_JACKET                                                                                   \
    G_ (L ("{A} {colour} {material} {noun} in size {size}.",                                       \
           "This {noun} comes in {colour} {material}, in size {size}."),                           \
        L ("A water repellent finish keeps off light rain.",                                       \
           "Two zip pockets keep your keys safe.", "The collar stands up against the wind.",       \
           "It is cut with room for a warm layer underneath.",                                     \
           "The lining is soft and breathable."),                                                  \
        CLOSE_WEAR)
#define G_SHIRT                                                                                    \
    G_ (L ("{A} {colour} {material} {noun} in size {size}.",                                       \
           "This {noun} comes in {colour} {material}, in size {size}."),                           \
        L ("It is cut for a relaxed fit and washes well.",                                         \
           "The seams are stitched flat for comfort.",                                             \
           "It pairs as well with jeans as with smart trousers.",                                  \
           "The fabric is soft, breathable and gentle on the skin."),                              \
        CLOSE_WEAR)
#define G_DRESS                                                                                    \
    G_ (L ("{A} {colour} {material} {noun} in size {size}.",                                       \
           "This {noun} comes in {colour} {material}, in size {size}."),                           \
        L ("It falls in soft folds and moves as you walk.",                                        \
           "A hidden zip at the back makes it easy to put on.",                                    \
           "It is fully lined, so it drapes well and never clings.",                               \
           "Wear it with flats in summer or a coat in winter."),                                   \
        CLOSE_WEAR)
#define G_BACKPACK                                                                                 \
    G_ (L ("{A} {colour} {material} {noun} with a capacity of {capacity}.",                        \
           "This {noun} in {colour} {material} holds {capacity}."),                                \
        L ("A padded sleeve protects a computer of up to fifteen inches.",                         \
           "The padded straps and back panel stay comfortable on long days.",                      \
           "The lining is made from recycled fibres.",                                             \
           "Zip pockets keep small things within reach."),                                         \
        CLOSE_WEAR)
#define G_HANDBAG                                                                                  \
    G_ (L ("{A} {colour} {material} {noun} with a metal clasp.",                                   \
           "This {noun} in {colour} {material} closes with a metal clasp."),                       \
        L ("Inside, two pockets keep the essentials in order.",                                    \
           "The handles are stitched for strength.",                                               \
           "A detachable strap lets you wear it on the shoulder.",                                 \
           "It is roomy enough for a tablet and a water bottle."),                                 \
        CLOSE_WEAR)
#define G_SUNGLASSES                                                                               \
    G_ (L ("{A} pair of {noun} with {colour} {material} frames and {lens} lenses.",                \
           "These {noun} pair {colour} {material} frames with {lens} lenses."),                    \
        L ("The lenses block all UV light.", "A hard case and a cleaning cloth are included.",     \
           "Spring hinges keep them comfortable on any face.",                                     \
           "They are light enough to forget you are wearing them."),                               \
        CLOSE_WEAR)

//  ---------------------------------------------------------------- kinds and leaves
//  A kind of product: its title noun and 3D shape family (render-cuda/vdemo_scenes.c), the
//  value of its "type" attribute (NULL: none), its materials and further attributes, its grammar
//  and how its title reads. The scene hint's variant is the value of variant_key (a count the
//  renderer builds: seaters, shelves; or a lamp's shade material).
typedef struct {
    const char *noun;
    const char *family;
    const char *type;
    const char *material_key;              //  "material", "upholstery", "frame" …
    const s_material_t *const *materials;  //  NULL-terminated, common first
    const s_attr_t *const *extras;         //  NULL-terminated, or NULL
    const s_grammar_t *grammar;
    const char *pre_key, *pre_fmt;  //  a title word before the noun: "3-Seater Sofa"
    const char *spec_key;           //  a title word after the noun: "Smartphone 256 GB"
    const char *variant_key;        //  what the scene hint carries after the material
    bool no_material_title;         //  gadgets: "Black Smartphone", not "Black Aluminium …"
} s_kind_t;

typedef struct {
    const char *path;               //  category path
    const char *code;               //  for the sku
    const s_kind_t *const *kinds;   //  NULL-terminated
    const char *const *adjectives;  //  title adjectives that fit every kind of the leaf
    int64_t min_eur, max_eur;       //  price range
} s_leaf_t;

typedef struct {
    const char *name;
    const char *code;
    s_leaf_t leaves[8];
    const char *brand_heads[6];
    const char *brand_tails[5];
} s_dept_t;

#define K_(n, f, t, k, m, e, ...)                                                                  \
    (&(const s_kind_t) { .noun = n,                                                                \
                         .family = f,                                                              \
                         .type = t,                                                                \
                         .material_key = k,                                                        \
                         .materials = m,                                                           \
                         .extras = e,                                                              \
                         .grammar = __VA_ARGS__ })
#define MATS(...)   ((const s_material_t *const[]) { __VA_ARGS__, NULL })
#define EXTRAS(...) ((const s_attr_t *const[]) { __VA_ARGS__, NULL })
#define KINDS(...)  ((const s_kind_t *const[]) { __VA_ARGS__, NULL })

#define OFFICE_CHAIR(noun)                                                                         \
    K_ (noun, "office_chair", NULL, "material", MATS (M_MESH, M_LEATHER, M_FABRIC),                \
        EXTRAS (A_ ("base", L ("aluminium", "nylon", "chrome")),                                   \
                A_ ("armrests", L ("adjustable", "fixed"))),                                       \
        G_OFFICE)
#define DINING_CHAIR(noun)                                                                         \
    K_ (noun, "dining_chair", NULL, "material", MATS (M_WOOD, M_PLASTIC, M_VELVET, M_RATTAN),      \
        NULL, G_CHAIR)
#define SOFA(noun, seaters)                                                                        \
    K_ (noun, "sofa", NULL, "upholstery", MATS (M_FABRIC, M_VELVET, M_LEATHER, M_BOUCLE, M_LINEN), \
        EXTRAS (A_ ("seaters", seaters)), G_SOFA, .pre_key = "seaters", .pre_fmt = "%s-Seater",    \
        .variant_key = "seaters")
#define LAMP(noun, family, type)                                                                   \
    K_ (noun, family, type, "material", MATS (M_METAL, M_WOOD),                                    \
        EXTRAS (A_ ("shade", L ("linen", "metal", "glass")),                                       \
                A_ ("bulb", L ("E27", "E14", "LED"))),                                             \
        G_LAMP, .variant_key = "shade")
#define PHONE(noun)                                                                                \
    K_ (noun, "phone", NULL, "material", MATS (M_ALU),                                             \
        EXTRAS (A_ ("storage", L ("128 GB", "256 GB", "64 GB", "512 GB")),                         \
                A_ ("screen", L ("6.1 inch", "6.7 inch", "6.4 inch"))),                            \
        G_PHONE, .spec_key = "storage", .no_material_title = true)
#define AUDIO(noun, family, type)                                                                  \
    K_ (noun, family, type, "material", MATS (M_ ("plastic", NULL, C_AUDIO)),                      \
        EXTRAS (A_ ("connectivity", L ("wireless", "wired")),                                      \
                (&(const s_attr_t) { "battery", L ("30 hours", "20 hours", "40 hours"),            \
                                     "connectivity", "wireless" })),                               \
        G_AUDIO, .pre_key = "connectivity", .pre_fmt = "%s", .no_material_title = true)
#define SPEAKER(noun, family)                                                                      \
    K_ (noun, family, NULL, "material", MATS (M_ ("fabric", NULL, C_AUDIO), M_WOOD),               \
        EXTRAS (A_ ("connectivity", L ("bluetooth", "wifi")),                                      \
                A_ ("power", L ("20 W", "40 W", "60 W"))),                                         \
        G_SPEAKER, .no_material_title = true)
#define LAPTOP(noun)                                                                               \
    K_ (noun, "laptop", NULL, "material", MATS (M_ ("aluminium", NULL, C_LAPTOP)),                 \
        EXTRAS (A_ ("memory", L ("16 GB", "8 GB", "32 GB")),                                       \
                A_ ("storage", L ("512 GB", "256 GB", "1 TB")),                                    \
                A_ ("screen", L ("14 inch", "13 inch", "15 inch", "16 inch"))),                    \
        G_LAPTOP, .no_material_title = true)
#define KEYBOARD(noun)                                                                             \
    K_ (noun, "keyboard", NULL, "material",                                                        \
        MATS (M_ ("plastic", NULL, L ("black", "white", "grey", "pink"))),                         \
        EXTRAS (A_ ("connectivity", L ("wireless", "wired")),                                      \
                A_ ("layout", L ("UK", "US", "Nordic"))),                                          \
        G_KEYBOARD, .pre_key = "connectivity", .pre_fmt = "%s", .no_material_title = true)
#define WATCH(noun)                                                                                \
    K_ (noun, "watch", NULL, "strap",                                                              \
        MATS (M_ ("silicone", NULL, L ("black", "white", "navy", "green", "pink", "red")),         \
              M_FASHION_LEATHER),                                                                  \
        EXTRAS (A_ ("case", L ("aluminium", "steel", "titanium")),                                 \
                A_ ("battery", L ("7 days", "2 days", "14 days"))),                                \
        G_WATCH, .no_material_title = true)
#define CAMERA(noun)                                                                               \
    K_ (noun, "camera", NULL, "material", MATS (M_ ("metal", NULL, L ("black", "silver"))),        \
        EXTRAS (A_ ("resolution", L ("24 MP", "20 MP", "33 MP", "45 MP"))), G_CAMERA,              \
        .spec_key = "resolution", .no_material_title = true)
#define BULB(noun)                                                                                 \
    K_ (noun, "bulb", NULL, "material", MATS (M_ ("glass", NULL, L ("white"))),                    \
        EXTRAS (A_ ("fitting", L ("E27", "E14", "GU10")),                                          \
                A_ ("brightness", L ("806 lumens", "470 lumens", "1055 lumens")),                  \
                A_ ("connectivity", L ("wifi", "zigbee", "bluetooth"))),                           \
        G_BULB, .spec_key = "fitting", .no_material_title = true)
#define SHOE(noun, family, mats, grammar)                                                          \
    K_ (noun, family, NULL, "material", mats, EXTRAS (A_SIZE_SHOES), grammar)
#define CLOTHES(noun, family, mats, grammar)                                                       \
    K_ (noun, family, NULL, "material", mats, EXTRAS (A_SIZE_CLOTHES), grammar)
#define BACKPACK(noun)                                                                             \
    K_ (noun, "backpack", NULL, "material",                                                        \
        MATS (M_NYLON, M_CANVAS, M_FASHION_LEATHER, M_POLYESTER),                                  \
        EXTRAS (A_ ("capacity", L ("20 litres", "25 litres", "15 litres", "30 litres"))),          \
        G_BACKPACK)
#define HANDBAG(noun)                                                                              \
    K_ (noun, "handbag", NULL, "material", MATS (M_FASHION_LEATHER, M_SUEDE, M_CANVAS), NULL,      \
        G_HANDBAG)
#define SUNGLASSES(noun)                                                                           \
    K_ (noun, "sunglasses", NULL, "frame",                                                         \
        MATS (M_ ("acetate", NULL, L ("black", "brown", "red", "blue")),                           \
              M_ ("metal", NULL, C_FRAME)),                                                        \
        EXTRAS (A_ ("lens", L ("polarised", "gradient", "mirrored"))), G_SUNGLASSES,               \
        .pre_key = "lens", .pre_fmt = "%s")

static const s_dept_t s_depts[3] = {
    { "furniture",
      "FUR",
      { { "furniture/chairs/office", "CHO",
          KINDS (OFFICE_CHAIR ("Office Chair"), OFFICE_CHAIR ("Desk Chair"),
                 OFFICE_CHAIR ("Task Chair"), OFFICE_CHAIR ("Gaming Chair")),
          L ("Ergonomic", "Adjustable", "Executive", "Compact", "Modern"), 60, 900 },
        { "furniture/chairs/dining", "CHD",
          KINDS (DINING_CHAIR ("Dining Chair"), DINING_CHAIR ("Side Chair"),
                 K_ ("Bar Stool", "bar_stool", NULL, "material",
                     MATS (M_WOOD, M_LEATHER, M_VELVET, M_PLASTIC),
                     EXTRAS (A_ ("height", L ("75 cm", "65 cm"))), G_STOOL),
                 K_ ("Armchair", "armchair", NULL, "upholstery",
                     MATS (M_FABRIC, M_VELVET, M_LEATHER, M_BOUCLE, M_LINEN), NULL, G_ARMCHAIR)),
          L ("Classic", "Modern", "Scandinavian", "Minimalist", "Rustic"), 40, 600 },
        { "furniture/sofas", "SOF",
          KINDS (SOFA ("Sofa", L ("3", "2", "4")), SOFA ("Couch", L ("3", "2", "4")),
                 SOFA ("Loveseat", L ("2")), SOFA ("Sectional", L ("4", "3"))),
          L ("Modern", "Classic", "Mid-Century", "Cosy"), 300, 4000 },
        { "furniture/tables/dining", "TBD",
          KINDS (K_ ("Dining Table", "dining_table", NULL, "material", MATS (M_WOOD, M_MARBLE),
                     EXTRAS (A_ ("seats", L ("6", "4", "8"))), G_TABLE, .variant_key = "seats"),
                 K_ ("Kitchen Table", "dining_table", NULL, "material", MATS (M_WOOD, M_MARBLE),
                     EXTRAS (A_ ("seats", L ("4", "6"))), G_TABLE, .variant_key = "seats"),
                 K_ ("Bistro Table", "bistro_table", NULL, "material", MATS (M_WOOD, M_MARBLE),
                     EXTRAS (A_ ("seats", L ("2"))), G_TABLE)),
          L ("Rustic", "Modern", "Scandinavian", "Solid", "Industrial"), 150, 2500 },
        { "furniture/tables/coffee", "TBC",
          KINDS (K_ ("Coffee Table", "coffee_table", NULL, "material", MATS (M_WOOD, M_MARBLE),
                     EXTRAS (A_ ("shape", L ("rectangular", "round", "oval"))), G_LOW_TABLE,
                     .variant_key = "shape"),
                 K_ ("Side Table", "side_table", NULL, "material", MATS (M_WOOD, M_MARBLE),
                     EXTRAS (A_ ("shape", L ("round"))), G_LOW_TABLE),
                 K_ ("Console Table", "console_table", NULL, "material", MATS (M_WOOD, M_MARBLE),
                     EXTRAS (A_ ("shape", L ("rectangular"))), G_LOW_TABLE)),
          L ("Modern", "Minimalist", "Low", "Mid-Century"), 60, 1200 },
        { "furniture/storage/shelves", "STS",
          KINDS (
              K_ ("Bookcase", "bookcase", NULL, "material", MATS (M_WOOD),
                  EXTRAS (A_ ("shelves", L ("5", "4", "3"))), G_BOOKCASE, .variant_key = "shelves"),
              K_ ("Shelving Unit", "bookcase", NULL, "material", MATS (M_WOOD, M_METAL),
                  EXTRAS (A_ ("shelves", L ("4", "5", "3"))), G_BOOKCASE, .variant_key = "shelves"),
              K_ ("Wall Shelf", "wall_shelf", NULL, "material", MATS (M_WOOD),
                  EXTRAS (A_ ("length", L ("80 cm", "60 cm", "100 cm")),
                          A_ ("brackets", L ("steel", "brass"))),
                  G_WALL_SHELF, .variant_key = "brackets")),
          L ("Modern", "Minimalist", "Industrial", "Scandinavian"), 30, 900 },
        { "furniture/beds", "BED",
          KINDS (K_ ("Bed Frame", "bed", NULL, "material", MATS (M_WOOD, M_FABRIC, M_VELVET),
                     EXTRAS (A_ ("size", L ("double", "king", "single"))), G_BED, .pre_key = "size",
                     .pre_fmt = "%s", .variant_key = "size"),
                 K_ ("Platform Bed", "bed", NULL, "material", MATS (M_WOOD, M_FABRIC),
                     EXTRAS (A_ ("size", L ("double", "king"))), G_BED, .pre_key = "size",
                     .pre_fmt = "%s", .variant_key = "size"),
                 K_ ("Daybed", "bed", NULL, "material", MATS (M_WOOD, M_METAL),
                     EXTRAS (A_ ("size", L ("single"))), G_BED, .variant_key = "size")),
          L ("Modern", "Classic", "Scandinavian", "Minimalist"), 200, 3000 },
        { "furniture/lighting/lamps", "LMP",
          KINDS (
              LAMP ("Table Lamp", "table_lamp", "table"), LAMP ("Desk Lamp", "desk_lamp", "desk"),
              LAMP ("Floor Lamp", "floor_lamp", "floor"), LAMP ("Wall Lamp", "wall_lamp", "wall")),
          L ("Modern", "Vintage", "Industrial", "Minimalist"), 25, 700 } },
      { "Oak", "Nord", "Hygge", "Ash", "Linden", "Maple" },
      { "line", "haus", "form", "craft", "wood" } },
    { "gadgets",
      "GAD",
      { { "gadgets/phones", "PHN",
          KINDS (PHONE ("Smartphone"), PHONE ("Phone"), PHONE ("5G Phone")),
          L ("Pro", "Ultra", "Lite", "Max"), 120, 1600 },
        { "gadgets/audio/headphones", "HPH",
          KINDS (AUDIO ("Headphones", "headphones", "over-ear"),
                 AUDIO ("Gaming Headphones", "headphones", "over-ear"),
                 AUDIO ("Earbuds", "earbuds", "in-ear"), AUDIO ("Earphones", "earbuds", "in-ear")),
          L ("Pro", "Studio", "Sport", "Travel", "Noise-Cancelling"), 20, 500 },
        { "gadgets/audio/speakers", "SPK",
          KINDS (SPEAKER ("Speaker", "speaker"), SPEAKER ("Bookshelf Speaker", "speaker"),
                 SPEAKER ("Smart Speaker", "smart_speaker"), SPEAKER ("Soundbar", "soundbar")),
          L ("Portable", "Pro", "Mini", "Waterproof"), 30, 900 },
        { "gadgets/computers/laptops", "LAP",
          KINDS (LAPTOP ("Laptop"), LAPTOP ("Gaming Laptop"), LAPTOP ("Business Laptop")),
          L ("Pro", "Slim", "Lightweight", "Everyday"), 300, 3500 },
        { "gadgets/computers/keyboards", "KBD",
          KINDS (KEYBOARD ("Keyboard"), KEYBOARD ("Mechanical Keyboard"),
                 K_ ("Mouse", "mouse", NULL, "material",
                     MATS (M_ ("plastic", NULL, L ("black", "white", "grey", "pink"))),
                     EXTRAS (A_ ("connectivity", L ("wireless", "wired"))), G_MOUSE,
                     .pre_key = "connectivity", .pre_fmt = "%s", .no_material_title = true)),
          L ("Compact", "Slim", "Ergonomic", "Gaming"), 15, 250 },
        { "gadgets/wearables/watches", "WCH",
          KINDS (WATCH ("Smartwatch"), WATCH ("Fitness Tracker"), WATCH ("Sport Watch"),
                 WATCH ("Watch")),
          L ("Classic", "Pro", "Active", "Smart"), 40, 900 },
        { "gadgets/cameras", "CAM",
          KINDS (CAMERA ("Camera"), CAMERA ("Mirrorless Camera"), CAMERA ("Digital Camera")),
          L ("Pro", "Travel", "Vintage"), 50, 3000 },
        { "gadgets/home/lights", "SML",
          KINDS (BULB ("Smart Bulb"), BULB ("LED Bulb"), BULB ("Dimmable Bulb")),
          L ("Smart", "Efficient", "Warm"), 10, 150 } },
      { "Volt", "Pixel", "Nexa", "Quanta", "Aero", "Sonic" },
      { "tech", "labs", "ion", "wave", "core" } },
    { "fashion",
      "FAS",
      { { "fashion/shoes/sneakers", "SNK",
          KINDS (SHOE ("Sneakers", "sneaker",
                       MATS (M_FASHION_LEATHER, M_CANVAS, M_ ("mesh", NULL, C_FASHION), M_SUEDE),
                       G_SNEAKER),
                 SHOE ("Trainers", "sneaker",
                       MATS (M_FASHION_LEATHER, M_ ("mesh", NULL, C_FASHION), M_SUEDE), G_SNEAKER),
                 SHOE ("Running Shoes", "sneaker", MATS (M_ ("mesh", NULL, C_FASHION)), G_SNEAKER)),
          L ("Classic", "Retro", "Lightweight", "Everyday"), 40, 300 },
        { "fashion/shoes/boots", "BOT",
          KINDS (SHOE ("Boots", "boot", MATS (M_FASHION_LEATHER, M_SUEDE), G_BOOT),
                 SHOE ("Chelsea Boots", "boot", MATS (M_FASHION_LEATHER, M_SUEDE), G_BOOT),
                 SHOE ("Hiking Boots", "boot", MATS (M_FASHION_LEATHER, M_SUEDE), G_BOOT),
                 SHOE ("Ankle Boots", "boot", MATS (M_FASHION_LEATHER, M_SUEDE), G_BOOT)),
          L ("Classic", "Rugged", "Waterproof", "Vintage"), 60, 450 },
        { "fashion/clothing/jackets", "JKT",
          KINDS (CLOTHES ("Jacket", "jacket", MATS (M_DENIM, M_FASHION_LEATHER, M_COTTON, M_WOOL),
                          G_JACKET),
                 CLOTHES ("Parka", "jacket", MATS (M_COTTON, M_NYLON), G_JACKET),
                 CLOTHES ("Bomber Jacket", "jacket", MATS (M_NYLON, M_FASHION_LEATHER, M_COTTON),
                          G_JACKET),
                 CLOTHES ("Coat", "jacket", MATS (M_WOOL, M_CASHMERE), G_JACKET)),
          L ("Classic", "Lightweight", "Waterproof", "Quilted", "Oversized"), 50, 700 },
        { "fashion/clothing/shirts", "SHT",
          KINDS (CLOTHES ("Shirt", "shirt", MATS (M_COTTON, M_CLOTH_LINEN, M_DENIM), G_SHIRT),
                 CLOTHES ("T-Shirt", "tshirt", MATS (M_COTTON, M_CLOTH_LINEN), G_SHIRT),
                 CLOTHES ("Polo", "tshirt", MATS (M_COTTON), G_SHIRT),
                 CLOTHES ("Blouse", "shirt", MATS (M_SILK, M_COTTON, M_CLOTH_LINEN, M_SATIN),
                          G_SHIRT)),
          L ("Classic", "Slim", "Relaxed", "Organic", "Oversized"), 15, 150 },
        { "fashion/clothing/dresses", "DRS",
          KINDS (CLOTHES ("Dress", "dress", MATS (M_COTTON, M_CLOTH_LINEN, M_SILK), G_DRESS),
                 CLOTHES ("Wrap Dress", "dress", MATS (M_COTTON, M_SILK, M_SATIN), G_DRESS),
                 CLOTHES ("Maxi Dress", "maxi_dress",
                          MATS (M_CLOTH_LINEN, M_COTTON, M_SILK, M_SATIN), G_DRESS)),
          L ("Flowing", "Classic", "Summer", "Elegant"), 30, 400 },
        { "fashion/bags/backpacks", "BPK",
          KINDS (BACKPACK ("Backpack"), BACKPACK ("Rucksack"), BACKPACK ("Daypack"),
                 BACKPACK ("Laptop Backpack")),
          L ("Everyday", "Travel", "Urban", "Lightweight"), 30, 350 },
        { "fashion/bags/handbags", "HBG",
          KINDS (HANDBAG ("Handbag"), HANDBAG ("Tote Bag"), HANDBAG ("Shoulder Bag")),
          L ("Classic", "Structured", "Everyday", "Minimal"), 40, 1500 },
        { "fashion/accessories/sunglasses", "SUN",
          KINDS (SUNGLASSES ("Sunglasses"), SUNGLASSES ("Aviator Sunglasses"),
                 SUNGLASSES ("Round Sunglasses")),
          L ("Classic", "Retro", "Oversized", "Sport"), 20, 400 } },
      { "Luna", "Marlo", "Vela", "Corso", "Ember", "Sloane" },
      { "studio", "atelier", "wear", "and co", "supply" } },
};

//  Colours that name a wood: the material goes without saying ("Oak Dining Table", not "Oak
//  Wooden Dining Table").
static bool
s_wood_tone (const char *colour)
{
    return !strcmp (colour, "oak") || !strcmp (colour, "walnut") || !strcmp (colour, "teak")
           || !strcmp (colour, "natural");
}

//  ---------------------------------------------------------------- composing
typedef struct {
    char *p;
    size_t left;
    bool article;  //  "{a}" seen: write "a " or "an " before the next text
    bool upper;    //  ... capitalised ("{A}")
} s_out_t;

//  "an" before a vowel sound: "an oak", "an E27", "an LED", "an 8 GB"; "a UK", "a USB".
static bool
s_an (const char *w)
{
    if (w[0] >= 'A' && w[0] <= 'Z' && w[1] >= 'A' && w[1] <= 'Z')
        return strchr ("AEFHILMNORSX", w[0]) != NULL;  //  an acronym: its first letter's name
    if (w[0] >= 'A' && w[0] <= 'Z' && w[1] >= '0' && w[1] <= '9')
        return strchr ("AEFHILMNORSX", w[0]) != NULL;  //  "E27"
    if (w[0] == '8')
        return true;
    return strchr ("aeiouAEIOU", w[0]) != NULL;
}

static void
s_putn (s_out_t *o, const char *s, size_t n)
{
    if (o->article && n) {
        o->article = false;
        const char *a = s_an (s) ? (o->upper ? "An " : "an ") : (o->upper ? "A " : "a ");
        s_putn (o, a, strlen (a));
    }
    if (n >= o->left)
        n = o->left ? o->left - 1 : 0;
    memcpy (o->p, s, n);
    o->p += n;
    o->left -= n;
    if (o->left)
        *o->p = 0;
}

static void
s_put (s_out_t *o, const char *s)
{
    s_putn (o, s, strlen (s));
}

//  s with its first letter in upper case.
static void
s_put_cap (s_out_t *o, const char *s)
{
    if (!*s)
        return;
    char c = s[0] >= 'a' && s[0] <= 'z' ? (char) (s[0] - 'a' + 'A') : s[0];
    s_putn (o, &c, 1);
    s_put (o, s + 1);
}

const char *
vgen_attr (const vgen_product_t *p, const char *key)
{
    for (size_t i = 0; i < p->nattrs; i++)
        if (strcmp (p->attr_keys[i], key) == 0)
            return p->attr_values[i];
    return NULL;
}

//  What a description speaks of: the product, its noun in lower case and its material (under
//  whichever key its kind gives it: "upholstery", "strap" …).
typedef struct {
    const vgen_product_t *p;
    const char *noun, *material;
} s_ctx_t;

//  The value of a slot ("noun", "material" or an attribute key of len bytes), NULL when none.
static const char *
s_slot (const s_ctx_t *x, const char *key, size_t len)
{
    if (len == 4 && memcmp (key, "noun", 4) == 0)
        return x->noun;
    if (len == 8 && memcmp (key, "material", 8) == 0)
        return x->material;
    for (size_t i = 0; i < x->p->nattrs; i++)
        if (strncmp (x->p->attr_keys[i], key, len) == 0 && x->p->attr_keys[i][len] == 0)
            return x->p->attr_values[i];
    return NULL;
}

//  True when every slot of the template has a value for p.
static bool
s_fits (const char *t, const s_ctx_t *x)
{
    for (const char *c = strchr (t, '{'); c; c = strchr (c + 1, '{')) {
        const char *e = strchr (c, '}');
        size_t n = (size_t) (e - c - 1);
        if (!(n == 1 && (c[1] == 'a' || c[1] == 'A')) && !s_slot (x, c + 1, n))
            return false;
    }
    return true;
}

static void
s_expand (s_out_t *o, const char *t, const s_ctx_t *x)
{
    while (*t) {
        const char *c = strchr (t, '{');
        if (!c) {
            s_put (o, t);
            return;
        }
        s_putn (o, t, (size_t) (c - t));
        const char *e = strchr (c, '}');
        size_t n = (size_t) (e - c - 1);
        if (n == 1 && (c[1] == 'a' || c[1] == 'A')) {
            o->article = true;
            o->upper = c[1] == 'A';
            e++;  //  the space after it goes with the article
        }
        else
            s_put (o, s_slot (x, c + 1, n));
        t = e + 1;
    }
}

static uint32_t
s_count (const char *const *list)
{
    uint32_t n = 0;
    while (list[n])
        n++;
    return n;
}

//  The index of the first template from start on (cyclically) that fits p and is not skip;
//  -1 when none does.
static int
s_choose (const char *const *list, uint32_t n, uint32_t start, int skip, const s_ctx_t *x)
{
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = (start + k) % n;
        if ((int) i != skip && s_fits (list[i], x))
            return (int) i;
    }
    return -1;
}

static void
s_add_attr (vgen_product_t *out, const char *key, const char *value)
{
    if (out->nattrs < VGEN_MAX_ATTRS) {
        out->attr_keys[out->nattrs] = key;
        out->attr_values[out->nattrs] = value;
        out->nattrs++;
    }
}

void
vgen_product (uint64_t index, vgen_product_t *out)
{
    s_rng_t r = { index * 0xD1B54A32D192ED03ull + 0x2545F4914F6CDD1Dull };
    memset (out, 0, sizeof *out);

    const s_dept_t *d = &s_depts[s_below (&r, 3)];
    const s_leaf_t *leaf = &d->leaves[s_below (&r, 8)];
    uint32_t brand_i = s_below (&r, 30);
    const s_kind_t *kind = leaf->kinds[s_below (&r, s_count ((const char *const *) leaf->kinds))];

    snprintf (out->id, sizeof out->id, "p%011llu", (unsigned long long) index);
    snprintf (out->sku, sizeof out->sku, "%s-%s-%06llu", d->code, leaf->code,
              (unsigned long long) (index % 1000000));
    snprintf (out->brand, sizeof out->brand, "%s%s%s", d->brand_heads[brand_i / 5],
              strchr (d->brand_tails[brand_i % 5], ' ') ? " " : "", d->brand_tails[brand_i % 5]);
    snprintf (out->category, sizeof out->category, "%s", leaf->path);

    //  Attributes: material first, then a colour it comes in, the type, the kind's others.
    uint32_t nmat = s_count ((const char *const *) kind->materials);
    const s_material_t *mat = kind->materials[s_mild (&r, nmat)];
    const char *colour = mat->colours[s_mild (&r, s_count (mat->colours))];
    s_add_attr (out, "colour", colour);
    s_add_attr (out, kind->material_key, mat->name);
    if (kind->type)
        s_add_attr (out, "type", kind->type);
    for (const s_attr_t *const *a = kind->extras; a && *a; a++) {
        if ((*a)->when_key) {
            const char *v = vgen_attr (out, (*a)->when_key);
            if (!v || strcmp (v, (*a)->when_value) != 0)
                continue;
        }
        s_add_attr (out, (*a)->key, (*a)->values[s_mild (&r, s_count ((*a)->values))]);
    }

    //  Title: Brand [Adjective] Colour [Material] [Pre] Noun [Spec] [Model].
    s_out_t o = { out->title, sizeof out->title, false, false };
    s_put (&o, out->brand);
    if (s_below (&r, 2)) {
        s_put (&o, " ");
        s_put (&o, leaf->adjectives[s_below (&r, s_count (leaf->adjectives))]);
    }
    s_put (&o, " ");
    s_put_cap (&o, colour);
    if (!kind->no_material_title && !(s_wood_tone (colour) && !strcmp (mat->name, "wood"))) {
        s_put (&o, " ");
        s_put_cap (&o, mat->title ? mat->title : mat->name);
    }
    if (kind->pre_key) {
        char pre[32];
        snprintf (pre, sizeof pre, kind->pre_fmt, vgen_attr (out, kind->pre_key));
        s_put (&o, " ");
        s_put_cap (&o, pre);
    }
    s_put (&o, " ");
    s_put (&o, kind->noun);
    if (kind->spec_key) {
        s_put (&o, " ");
        s_put (&o, vgen_attr (out, kind->spec_key));
    }
    if (s_below (&r, 3) == 0) {
        char model[16];
        snprintf (model, sizeof model, " %c%u", 'A' + s_below (&r, 26),
                  10 * (1 + s_below (&r, 90)));
        s_put (&o, model);
    }

    //  Description: an opener, two details, every other product a closer.
    char noun[40];
    size_t nl = 0;
    for (const char *c = kind->noun; *c && nl + 1 < sizeof noun; c++)
        noun[nl++] = *c >= 'A' && *c <= 'Z' && ((c[1] >= 'a' && c[1] <= 'z') || c[1] == '-')
                         ? (char) (*c - 'A' + 'a')
                         : *c;  //  "Chelsea Boots" → "chelsea boots"; "LED", "5G" stay
    noun[nl] = 0;
    const s_grammar_t *g = kind->grammar;
    s_ctx_t x = { out, noun, mat->name };
    uint32_t nop = s_count (g->openers), ndet = s_count (g->details), ncl = s_count (g->closers);
    int op = s_choose (g->openers, nop, s_below (&r, nop), -1, &x);
    int d1 = s_choose (g->details, ndet, s_below (&r, ndet), -1, &x);
    int d2 = s_choose (g->details, ndet, s_below (&r, ndet), d1, &x);
    int cl = s_below (&r, 2) ? (int) s_below (&r, ncl) : -1;
    o = (s_out_t) { out->description, sizeof out->description, false, false };
    const char *parts[4] = { op >= 0 ? g->openers[op] : NULL, d1 >= 0 ? g->details[d1] : NULL,
                             d2 >= 0 ? g->details[d2] : NULL, cl >= 0 ? g->closers[cl] : NULL };
    for (int i = 0; i < 4; i++)
        if (parts[i]) {
            if (o.p != out->description)
                s_put (&o, " ");
            s_expand (&o, parts[i], &x);
        }

    //  The scene: family, colour, material and the variant the renderer builds.
    const char *variant = kind->variant_key ? vgen_attr (out, kind->variant_key) : NULL;
    snprintf (out->scene, sizeof out->scene, "%s:%s:%s%s%s", kind->family, colour, mat->name,
              variant ? ":" : "", variant ? variant : "");

    //  Price: log-uniform in the category's range, ending in .99 or .00.
    double lo = log ((double) leaf->min_eur), hi = log ((double) leaf->max_eur);
    int64_t eur = (int64_t) exp (lo + (hi - lo) * s_unit (&r));
    out->price_minor = eur * 100 + (s_below (&r, 2) ? 99 : 0);

    out->in_stock = s_below (&r, 100) < 92;
    out->active = s_below (&r, 100) < 96;
    out->created_ms = VGEN_NOW_MS - (int64_t) (s_unit (&r) * 2 * 365.25 * 86400000.0);
    //  Pareto with shape 1.2: most products are rarely seen, a few are bestsellers.
    out->popularity = floor (10.0 * (pow (1.0 - s_unit (&r), -1.0 / 1.2) - 1.0) * 100.0) / 100.0;
}

void
vgen_product_doc (const vgen_product_t *p, catalog_doc_t *doc)
{
    *doc = (catalog_doc_t) { .id = p->id,
                             .title = p->title,
                             .brand = p->brand,
                             .description = p->description,
                             .category = p->category,
                             .attr_keys = p->attr_keys,
                             .attr_values = p->attr_values,
                             .nattrs = p->nattrs,
                             .price_minor = p->price_minor,
                             .in_stock = p->in_stock,
                             .active = p->active,
                             .created_ms = p->created_ms,
                             .popularity = p->popularity };
}

const char *
vgen_category (size_t i)
{
    if (i >= 3 * 8)
        return NULL;
    return s_depts[i / 8].leaves[i % 8].path;
}

//  Calls back for every string of the tables, in a fixed order, until it returns true.
typedef struct {
    size_t want, seen;
    const char *found;
} s_walk_t;

static bool
s_visit (s_walk_t *w, const char *s)
{
    if (w->seen++ == w->want)
        w->found = s;
    return w->found != NULL;
}

static bool
s_visit_list (s_walk_t *w, const char *const *list)
{
    for (; list && *list; list++)
        if (s_visit (w, *list))
            return true;
    return false;
}

const char *
vgen_vocabulary (size_t i)
{
    s_walk_t w = { i, 0, NULL };
    for (int di = 0; di < 3; di++) {
        const s_dept_t *d = &s_depts[di];
        for (int b = 0; b < 6; b++)
            if (s_visit (&w, d->brand_heads[b]))
                return w.found;
        for (int b = 0; b < 5; b++)
            if (s_visit (&w, d->brand_tails[b]))
                return w.found;
        for (int li = 0; li < 8; li++) {
            const s_leaf_t *leaf = &d->leaves[li];
            if (s_visit_list (&w, leaf->adjectives))
                return w.found;
            for (const s_kind_t *const *k = leaf->kinds; *k; k++) {
                const s_kind_t *kind = *k;
                if (s_visit (&w, kind->noun) || (kind->type && s_visit (&w, kind->type))
                    || s_visit_list (&w, kind->grammar->openers)
                    || s_visit_list (&w, kind->grammar->details)
                    || s_visit_list (&w, kind->grammar->closers))
                    return w.found;
                for (const s_material_t *const *m = kind->materials; *m; m++)
                    if (s_visit (&w, (*m)->name) || ((*m)->title && s_visit (&w, (*m)->title))
                        || s_visit_list (&w, (*m)->colours))
                        return w.found;
                for (const s_attr_t *const *a = kind->extras; a && *a; a++)
                    if (s_visit_list (&w, (*a)->values))
                        return w.found;
            }
        }
    }
    return NULL;
}

//  ---------------------------------------------------------------- a search box's text

void
vgen_suggest_text (uint64_t i, char *text, size_t size)
{
    vgen_product_t p;
    vgen_product (i * 7919 % 100000, &p);
    char title[128];
    snprintf (title, sizeof title, "%s", p.title);
    char *save = NULL;
    const char *first = strtok_r (title, " ", &save), *noun = first;
    for (const char *w = first; w; w = strtok_r (NULL, " ", &save))
        noun = w;
    switch (i % 3) {
    case 0: snprintf (text, size, "%.*s", (int) (2 + i / 3 % 4), noun); break;
    case 1: snprintf (text, size, "%s %.3s", first, noun); break;
    default: {
        char typo[64];
        snprintf (typo, sizeof typo, "%.5s", noun);
        if (strlen (typo) >= 4) {
            char c = typo[1];
            typo[1] = typo[2];
            typo[2] = c;  //  a swap of neighbours in what is typed so far
        }
        snprintf (text, size, "%s", typo);
    }
    }
}
