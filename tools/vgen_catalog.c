//  vgen_catalog.c — the deterministic demo catalog (see vgen_catalog.h).
//  Each product draws from a splitmix64 stream seeded by its index, so any product can be made
//  alone, in any order, on any thread. Vocabularies are sized so that a one-word query matches
//  about 1–2 % of the catalog, like the median query of a real shop.
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

//  Skewed pick in [0, n): a power of a uniform favours the first entries (a word list's common
//  words come first), so frequencies fall off like a mild Zipf law.
static uint32_t
s_mild (s_rng_t *r, uint32_t n)
{
    return (uint32_t) (pow (s_unit (r), 1.4) * n);
}

#define PICK(r, a) ((a)[s_below ((r), (uint32_t) N_ (a))])

//  ---------------------------------------------------------------- vocabularies
typedef struct {
    const char *path;          //  category path
    const char *code;          //  for the sku
    const char *scene;         //  3D shape family
    const char *nouns[4];      //  title head nouns
    int64_t min_eur, max_eur;  //  price range
} s_leaf_t;

typedef struct {
    const char *name;
    const char *code;
    s_leaf_t leaves[8];
    const char *brand_heads[6];
    const char *brand_tails[5];
    const char *adjectives[24];
    const char *features[24];
    const char *words[160];  //  description vocabulary, common first
    const char *attr_keys[3];
    const char *const *attr_values[3];
    size_t nattr_values[3];
} s_dept_t;

static const char *s_colours[] = { "black",  "white",    "grey",    "navy",  "red",
                                   "green",  "beige",    "blue",    "brown", "olive",
                                   "silver", "gold",     "pink",    "teal",  "charcoal",
                                   "cream",  "burgundy", "mustard", "ivory", "sand" };
static const char *s_wood[] = { "oak",   "walnut", "beech", "ash",       "pine",   "teak",
                                "birch", "bamboo", "steel", "aluminium", "rattan", "marble",
                                "glass", "velvet", "linen", "leather",   "boucle", "mesh" };
static const char *s_furn_size[] = {
    "compact",    "standard",     "large",  "extra large", "small",
    "two seater", "three seater", "single", "double",      "king"
};
static const char *s_capacity[] = { "64gb", "128gb", "256gb", "512gb", "1tb",
                                    "2tb",  "32gb",  "16gb",  "8gb" };
static const char *s_connect[] = { "bluetooth", "wifi", "usb-c",       "zigbee",   "5g",
                                   "lte",       "nfc",  "thunderbolt", "wireless", "wired" };
static const char *s_fabric[] = {
    "cotton",   "wool",  "denim",   "linen", "polyester", "silk",
    "cashmere", "nylon", "leather", "suede", "canvas",    "recycled"
};
static const char *s_sizes[] = { "xs", "s",  "m",  "l",  "xl", "xxl",     "36",
                                 "38", "40", "42", "44", "46", "one size" };

static const s_dept_t
    s_depts[3] = {
        { "furniture",
          "FUR",
          { { "furniture/chairs/office",
              "CHO",
              "chair",
              { "Office Chair", "Desk Chair", "Task Chair", "Gaming Chair" },
              60,
              900 },
            { "furniture/chairs/dining",
              "CHD",
              "chair",
              { "Dining Chair", "Side Chair", "Bar Stool", "Armchair" },
              40,
              600 },
            { "furniture/sofas",
              "SOF",
              "sofa",
              { "Sofa", "Couch", "Loveseat", "Sectional" },
              300,
              4000 },
            { "furniture/tables/dining",
              "TBD",
              "table",
              { "Dining Table", "Kitchen Table", "Extendable Table", "Bistro Table" },
              150,
              2500 },
            { "furniture/tables/coffee",
              "TBC",
              "table",
              { "Coffee Table", "Side Table", "Nesting Tables", "Console Table" },
              60,
              1200 },
            { "furniture/storage/shelves",
              "STS",
              "shelf",
              { "Bookcase", "Shelf", "Wall Shelf", "Shelving Unit" },
              30,
              900 },
            { "furniture/beds",
              "BED",
              "bed",
              { "Bed Frame", "Platform Bed", "Bunk Bed", "Daybed" },
              200,
              3000 },
            { "furniture/lighting/lamps",
              "LMP",
              "lamp",
              { "Floor Lamp", "Table Lamp", "Desk Lamp", "Pendant Lamp" },
              25,
              700 } },
          { "Oak", "Nord", "Hygge", "Ash", "Linden", "Maple" },
          { "line", "haus", "form", "craft", "wood" },
          { "Ergonomic", "Modern",    "Scandinavian", "Rustic", "Minimalist",  "Industrial",
            "Classic",   "Compact",   "Upholstered",  "Solid",  "Mid-Century", "Adjustable",
            "Foldable",  "Stackable", "Vintage",      "Curved", "Luxe",        "Cosy",
            "Sturdy",    "Slim",      "Round",        "Oval",   "Low",         "Tall" },
          { "Mesh",      "Oak",    "Walnut",  "Velvet",    "Leather",    "Linen",
            "Rattan",    "Marble", "Glass",   "Steel",     "Bamboo",     "Boucle",
            "Teak",      "Beech",  "Swivel",  "Reclining", "Tufted",     "Padded",
            "Lacquered", "Woven",  "Storage", "Modular",   "Cantilever", "Wingback" },
          { "comfortable", "seat",          "backrest",     "cushion",    "frame",
            "legs",        "finish",        "assembly",     "living",     "room",
            "bedroom",     "office",        "home",         "space",      "design",
            "wood",        "solid",         "durable",      "support",    "lumbar",
            "armrests",    "height",        "adjustable",   "upholstery", "fabric",
            "foam",        "padding",       "timeless",     "natural",    "grain",
            "oiled",       "veneer",        "sturdy",       "stable",     "joinery",
            "handcrafted", "craftsmanship", "scandinavian", "minimal",    "lines",
            "warm",        "tones",         "cosy",         "corner",     "storage",
            "drawers",     "shelves",       "doors",        "hinges",     "soft",
            "close",       "steel",         "powder",       "coated",     "brass",
            "accents",     "tapered",       "feet",         "glides",     "protect",
            "floors",      "scratch",       "resistant",    "stain",      "removable",
            "covers",      "washable",      "spacious",     "compact",    "apartments",
            "studio",      "dining",        "family",       "guests",     "entertaining",
            "reading",     "nook",          "lamp",         "shade",      "dimmable",
            "bulb",        "warmth",        "glow",         "ambient",    "light",
            "mattress",    "slats",         "headboard",    "underbed",   "tabletop",
            "extendable",  "leaf",          "seats",        "chairs",     "stackable",
            "folding",     "outdoor",       "weatherproof", "teak",       "rattan",
            "woven",       "cane",          "marble",       "top",        "tempered",
            "glass",       "shelf",         "bookcase",     "books",      "display",
            "plants",      "decor",         "ornaments",    "mounted",    "wall",
            "brackets",    "swivel",        "casters",      "recline",    "tilt",
            "lock",        "posture",       "ergonomic",    "hours",      "work",
            "gaming",      "headrest",      "mesh",         "breathable", "velvet",
            "plush",       "boucle",        "texture",      "curved",     "silhouette",
            "modular",     "sections",      "chaise",       "sectional",  "sofa",
            "loveseat",    "arms",          "deep",         "sink",       "lounge",
            "nap",         "pillows",       "throw",        "bench",      "entryway",
            "console",     "sideboard",     "cabinet",      "nightstand", "pendant" },
          { "colour", "material", "size" },
          { s_colours, s_wood, s_furn_size },
          { N_ (s_colours), N_ (s_wood), N_ (s_furn_size) } },
        { "gadgets",
          "GAD",
          { { "gadgets/phones",
              "PHN",
              "phone",
              { "Smartphone", "Phone", "Flip Phone", "Rugged Phone" },
              120,
              1600 },
            { "gadgets/audio/headphones",
              "HPH",
              "headphones",
              { "Headphones", "Earbuds", "Headset", "Earphones" },
              20,
              500 },
            { "gadgets/audio/speakers",
              "SPK",
              "speaker",
              { "Speaker", "Soundbar", "Smart Speaker", "Party Speaker" },
              30,
              900 },
            { "gadgets/computers/laptops",
              "LAP",
              "laptop",
              { "Laptop", "Notebook", "Ultrabook", "Chromebook" },
              300,
              3500 },
            { "gadgets/computers/keyboards",
              "KBD",
              "keyboard",
              { "Keyboard", "Mechanical Keyboard", "Mouse", "Trackpad" },
              15,
              250 },
            { "gadgets/wearables/watches",
              "WCH",
              "watch",
              { "Smartwatch", "Fitness Tracker", "Sport Watch", "Watch" },
              40,
              900 },
            { "gadgets/cameras",
              "CAM",
              "camera",
              { "Camera", "Action Camera", "Webcam", "Mirrorless Camera" },
              50,
              3000 },
            { "gadgets/home/lights",
              "SML",
              "bulb",
              { "Smart Bulb", "Light Strip", "Smart Plug", "Motion Sensor" },
              10,
              150 } },
          { "Volt", "Pixel", "Nexa", "Quanta", "Aero", "Sonic" },
          { "tech", "labs", "ion", "wave", "core" },
          { "Wireless", "Smart",       "Portable",
            "Ultra",    "Pro",         "Compact",
            "Rugged",   "Waterproof",  "Noise-Cancelling",
            "Fast",     "Lightweight", "Premium",
            "Slim",     "Mini",        "Max",
            "Digital",  "Foldable",    "Gaming",
            "Studio",   "Sport",       "Travel",
            "Classic",  "Advanced",    "Essential" },
          { "Bluetooth",  "5G",      "4K",       "OLED",   "AMOLED",   "USB-C",
            "Hi-Fi",      "Stereo",  "HDR",      "Touch",  "Backlit",  "RGB",
            "Mechanical", "Optical", "GPS",      "Solar",  "Dual",     "Zoom",
            "Night",      "Voice",   "Magnetic", "Carbon", "Titanium", "Aluminium" },
          { "battery",       "life",          "charging",    "fast",       "wireless",
            "bluetooth",     "connection",    "pairing",     "app",        "control",
            "smart",         "display",       "screen",      "resolution", "brightness",
            "processor",     "performance",   "memory",      "storage",    "camera",
            "lens",          "sensor",        "megapixel",   "video",      "recording",
            "stabilisation", "audio",         "sound",       "bass",       "drivers",
            "noise",         "cancelling",    "microphone",  "calls",      "voice",
            "assistant",     "waterproof",    "rating",      "dust",       "rugged",
            "lightweight",   "portable",      "travel",      "compact",    "design",
            "aluminium",     "glass",         "back",        "titanium",   "frame",
            "durable",       "hours",         "playback",    "standby",    "usb",
            "port",          "cable",         "charger",     "included",   "case",
            "firmware",      "updates",       "security",    "encryption", "fingerprint",
            "unlock",        "face",          "recognition", "gps",        "tracking",
            "fitness",       "heart",         "rate",        "sleep",      "steps",
            "workouts",      "notifications", "keyboard",    "switches",   "tactile",
            "keys",          "backlight",     "rgb",         "gaming",     "latency",
            "mouse",         "dpi",           "ergonomic",   "laptop",     "thin",
            "fanless",       "cooling",       "ssd",         "ram",        "graphics",
            "ports",         "hdmi",          "thunderbolt", "webcam",     "speakers",
            "stereo",        "immersive",     "spatial",     "room",       "filling",
            "party",         "outdoor",       "pool",        "dual",       "pairing",
            "multiroom",     "streaming",     "music",       "podcasts",   "playlists",
            "smartphone",    "network",       "signal",      "antenna",    "sim",
            "esim",          "photos",        "zoom",        "optical",    "night",
            "mode",          "portrait",      "selfie",      "touch",      "gestures",
            "automation",    "scenes",        "schedules",   "bulb",       "dimmable",
            "colours",       "sensor",        "motion",      "plug",       "energy",
            "monitoring",    "hub",           "zigbee",      "matter",     "compatible",
            "setup",         "minutes",       "warranty",    "support",    "accessories",
            "strap",         "band",          "watch",       "face" },
          { "colour", "capacity", "connectivity" },
          { s_colours, s_capacity, s_connect },
          { N_ (s_colours), N_ (s_capacity), N_ (s_connect) } },
        { "fashion",
          "FAS",
          { { "fashion/shoes/sneakers",
              "SNK",
              "sneaker",
              { "Sneakers", "Trainers", "Running Shoes", "High-Tops" },
              40,
              300 },
            { "fashion/shoes/boots",
              "BOT",
              "boot",
              { "Boots", "Chelsea Boots", "Hiking Boots", "Ankle Boots" },
              60,
              450 },
            { "fashion/clothing/jackets",
              "JKT",
              "jacket",
              { "Jacket", "Parka", "Bomber Jacket", "Raincoat" },
              50,
              700 },
            { "fashion/clothing/shirts",
              "SHT",
              "shirt",
              { "Shirt", "T-Shirt", "Polo", "Blouse" },
              15,
              150 },
            { "fashion/clothing/dresses",
              "DRS",
              "dress",
              { "Dress", "Maxi Dress", "Wrap Dress", "Slip Dress" },
              30,
              400 },
            { "fashion/bags/backpacks",
              "BPK",
              "backpack",
              { "Backpack", "Rucksack", "Daypack", "Laptop Backpack" },
              30,
              350 },
            { "fashion/bags/handbags",
              "HBG",
              "handbag",
              { "Handbag", "Tote", "Crossbody Bag", "Clutch" },
              40,
              1500 },
            { "fashion/accessories/sunglasses",
              "SUN",
              "sunglasses",
              { "Sunglasses", "Aviators", "Shades", "Glasses" },
              20,
              400 } },
          { "Luna", "Marlo", "Vela", "Corso", "Ember", "Sloane" },
          { "studio", "atelier", "wear", "and co", "supply" },
          { "Classic", "Slim",     "Oversized",   "Relaxed",    "Vintage", "Tailored",
            "Casual",  "Chunky",   "Lightweight", "Waterproof", "Quilted", "Cropped",
            "Organic", "Recycled", "Essential",   "Everyday",   "Urban",   "Retro",
            "Padded",  "Soft",     "Premium",     "Minimal",    "Bold",    "Linen" },
          { "Leather",  "Suede",  "Canvas", "Denim",     "Cotton",  "Wool",
            "Cashmere", "Silk",   "Knit",   "Mesh",      "Nylon",   "Corduroy",
            "Fleece",   "Satin",  "Velvet", "Polarised", "Striped", "Floral",
            "Checked",  "Ribbed", "Puffer", "Shearling", "Logo",    "Suede" },
          { "fit",           "comfortable", "soft",        "fabric",       "cotton",
            "organic",       "recycled",    "materials",   "sustainable",  "stitching",
            "seams",         "durable",     "everyday",    "wear",         "style",
            "casual",        "smart",       "occasions",   "layering",     "weekend",
            "office",        "travel",      "outdoor",     "weather",      "waterproof",
            "breathable",    "lining",      "insulated",   "warm",         "winter",
            "summer",        "spring",      "autumn",      "lightweight",  "packable",
            "hood",          "zip",         "pockets",     "buttons",      "collar",
            "sleeves",       "cuffs",       "hem",         "waist",        "relaxed",
            "tailored",      "slim",        "oversized",   "cut",          "silhouette",
            "drape",         "flowing",     "midi",        "length",       "neckline",
            "print",         "pattern",     "stripes",     "floral",       "colour",
            "wash",          "machine",     "care",        "dry",          "clean",
            "leather",       "suede",       "upper",       "sole",         "rubber",
            "grip",          "cushioned",   "insole",      "arch",         "support",
            "laces",         "ankle",       "heel",        "toe",          "running",
            "walking",       "hiking",      "trail",       "city",         "streetwear",
            "sneaker",       "classic",     "retro",       "design",       "heritage",
            "craftsmanship", "handmade",    "italian",     "portuguese",   "strap",
            "adjustable",    "shoulder",    "crossbody",   "compartments", "laptop",
            "sleeve",        "padded",      "back",        "panel",        "hardware",
            "gold",          "silver",      "buckle",      "magnetic",     "closure",
            "lenses",        "polarised",   "uv",          "protection",   "frames",
            "acetate",       "metal",       "glare",       "knit",         "wool",
            "cashmere",      "merino",      "silk",        "satin",        "denim",
            "stretch",       "fleece",      "quilted",     "puffer",       "down",
            "filling",       "shell",       "water",       "repellent",    "reflective",
            "details",       "logo",        "embroidered", "minimal",      "wardrobe",
            "staple",        "versatile",   "pair",        "jeans",        "chinos",
            "skirt",         "boots",       "dress",       "shirt",        "jacket",
            "backpack",      "tote",        "bag",         "sunglasses",   "gift" },
          { "colour", "material", "size" },
          { s_colours, s_fabric, s_sizes },
          { N_ (s_colours), N_ (s_fabric), N_ (s_sizes) } },
    };

//  Words every department uses, common first.
static const char *s_shared[] = {
    "quality",   "perfect",    "new",          "best",      "premium",     "easy",      "great",
    "ideal",     "everyday",   "modern",       "stylish",   "elegant",     "practical", "reliable",
    "versatile", "designed",   "made",         "crafted",   "features",    "offers",    "brings",
    "combines",  "delivers",   "keeps",        "makes",     "gives",       "enjoy",     "love",
    "choose",    "upgrade",    "collection",   "edition",   "series",      "model",     "range",
    "favourite", "bestseller", "award",        "winning",   "customers",   "reviews",   "rated",
    "trusted",   "guarantee",  "year",         "years",     "long",        "lasting",   "free",
    "returns",   "delivery",   "eco",          "friendly",  "responsibly", "sourced",   "certified",
    "tested",    "safe",       "gift",         "idea",      "birthday",    "christmas", "season",
    "limited",   "exclusive",  "online",       "available", "options",     "sizes",     "colours",
    "finishes",  "details",    "clean",        "simple",    "refined",     "signature", "iconic",
    "popular",   "essential",  "must",         "have",      "upgrade",     "value",     "price",
    "budget",    "luxury",     "professional", "beginners", "kids",        "adults",    "men",
    "women",     "unisex"
};

//  Made-up collection names are three of these: "arvika", "lunsilto" …
static const char *s_syllables[] = { "ar", "vi",  "ka", "lo",  "ren", "sa", "mi",  "tor",
                                     "el", "da",  "no", "ve",  "ris", "ta", "lun", "bo",
                                     "ke", "sil", "ma", "dor", "fi",  "an", "ny",  "qu" };

static const char *s_connectives[] = { "with", "and",  "for",  "in",   "a",  "the", "of", "to",
                                       "from", "that", "this", "your", "on", "is",  "by" };

//  ---------------------------------------------------------------- building
typedef struct {
    char *p;
    size_t left;
} s_out_t;

static void
s_put (s_out_t *o, const char *s)
{
    size_t n = strlen (s);
    if (n >= o->left)
        n = o->left ? o->left - 1 : 0;
    memcpy (o->p, s, n);
    o->p += n;
    o->left -= n;
    if (o->left)
        *o->p = 0;
}

void
vgen_product (uint64_t index, vgen_product_t *out)
{
    s_rng_t r = { index * 0xD1B54A32D192ED03ull + 0x2545F4914F6CDD1Dull };
    memset (out, 0, sizeof *out);

    const s_dept_t *d = &s_depts[s_below (&r, 3)];
    uint32_t leaf_i = s_below (&r, 8);
    const s_leaf_t *leaf = &d->leaves[leaf_i];
    uint32_t brand_i = s_below (&r, 30);

    snprintf (out->id, sizeof out->id, "p%011llu", (unsigned long long) index);
    snprintf (out->sku, sizeof out->sku, "%s-%s-%06llu", d->code, leaf->code,
              (unsigned long long) (index % 1000000));
    snprintf (out->brand, sizeof out->brand, "%s%s%s", d->brand_heads[brand_i / 5],
              strchr (d->brand_tails[brand_i % 5], ' ') ? " " : "", d->brand_tails[brand_i % 5]);
    snprintf (out->category, sizeof out->category, "%s", leaf->path);
    snprintf (out->scene, sizeof out->scene, "%s", leaf->scene);

    //  Title: Brand [Adjective] Feature Noun, sometimes with a model number.
    s_out_t o = { out->title, sizeof out->title };
    s_put (&o, out->brand);
    if (s_below (&r, 4)) {
        s_put (&o, " ");
        s_put (&o, d->adjectives[s_mild (&r, 24)]);
    }
    s_put (&o, " ");
    s_put (&o, d->features[s_mild (&r, 24)]);
    s_put (&o, " ");
    s_put (&o, leaf->nouns[s_below (&r, 4)]);
    if (s_below (&r, 3) == 0) {
        char model[16];
        snprintf (model, sizeof model, " %c%u", 'A' + s_below (&r, 26),
                  10 * (1 + s_below (&r, 90)));
        s_put (&o, model);
    }

    //  Description: 20–60 words, department vocabulary with shared words and connectives.
    o = (s_out_t) { out->description, sizeof out->description };
    uint32_t nvocab = (uint32_t) N_ (d->words);
    while (!d->words[nvocab - 1])
        nvocab--;  //  the list is shorter than its array
    //  About a sixth of the words are the department's, a few shared, a few nouns of the
    //  category and a few rare made-up collection names; the rest are stop words, which the
    //  index drops. That puts a typical word in 1-2 % of the catalog.
    uint32_t nwords = 20 + s_below (&r, 41);
    for (uint32_t i = 0; i < nwords; i++) {
        uint32_t kind = s_below (&r, 100);
        char made[24];
        const char *w;
        if (kind < 15)
            w = d->words[s_mild (&r, nvocab)];
        else if (kind < 20)
            w = s_shared[s_mild (&r, (uint32_t) N_ (s_shared))];
        else if (kind < 25) {
            w = leaf->nouns[s_below (&r, 4)];  //  its head word: "Office Chair" → "Chair"
            w = strrchr (w, ' ') ? strrchr (w, ' ') + 1 : w;
        }
        else if (kind < 35) {
            snprintf (made, sizeof made, "%s%s%s", PICK (&r, s_syllables), PICK (&r, s_syllables),
                      PICK (&r, s_syllables));
            w = made;
        }
        else
            w = PICK (&r, s_connectives);
        if (i)
            s_put (&o, " ");
        s_put (&o, w);
        if (i + 1 == nwords || s_below (&r, 9) == 0)
            s_put (&o, ".");
    }

    //  Attributes: the department's three plus sometimes a second colour.
    for (int i = 0; i < 3; i++) {
        out->attr_keys[out->nattrs] = d->attr_keys[i];
        out->attr_values[out->nattrs] =
            d->attr_values[i][s_below (&r, (uint32_t) d->nattr_values[i])];
        out->nattrs++;
    }
    if (s_below (&r, 4) == 0) {
        out->attr_keys[out->nattrs] = "accent";
        out->attr_values[out->nattrs] = PICK (&r, s_colours);
        out->nattrs++;
    }

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
