/* Structure-aware libFuzzer mutator for .tflite inputs, linked with fuzz_model.c (same target:
 * load + invoke) into build/fuzz/fuzz_model_structured:
 *
 *   make -C runtime_micro fuzz
 *   runtime_micro/build/fuzz/fuzz_model_structured -max_total_time=60 WORK SEEDS
 *
 * Random bytes mostly break a flatbuffer's first offsets, so the byte-level harness spends its
 * time in the structure checks. This mutator walks the input's tables with the TFLite schema's
 * field slots (the ones runtime_micro/src/el_model.c reads), lists the places that mean
 * something, then patches one to two of them in place with values chosen for what they are:
 *   - tensor dims, types, buffer indices, is_variable, shape_signature;
 *   - operator opcode_index, input/output/intermediate tensor indices, builtin_options_type,
 *     builtin options fields (IF/WHILE/CALL_ONCE subgraph indices, RESHAPE new_shape, SQUEEZE
 *     dims, other options' scalars by their width), operator codes' builtin_code;
 *   - quantization scale / zero_point / min / max vectors and quantized_dimension;
 *   - sparsity traversal_order, block_map, dim_metadata format, dense_size, segment and index
 *     vectors (int32 / uint16 / uint8) and their union types;
 *   - the format itself: vtable entries and sizes, table soffsets (pointed at another table's
 *     vtable), uoffsets (a table-vector element pointed at a sibling), vector lengths;
 *   - vectors resized: a copy one element longer or shorter (or empty, or doubled) appended at
 *     the end of the file, the offset field pointed at it (uoffsets only point forward, so a
 *     vector of scalars can move to the end without touching anything else);
 * and leaves the rest to libFuzzer's byte mutations (one call in eight, and whenever the input
 * no longer walks). The walker never trusts the input: every read is bounds-checked, the walk
 * is bounded, and the site lists are reservoir samples of fixed size, one per meaning: a
 * mutation picks a meaning uniformly, then a place (so a sparse model's thousands of index
 * entries do not drown its few opcode indices). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* TFLite schema facts (BuiltinOptions union numbers). */
enum {
    OPT_RESHAPE = 17,
    OPT_SQUEEZE = 30,
    OPT_IF = 92,
    OPT_WHILE = 93,
    OPT_CALL_ONCE = 103,
    OPT_VAR_HANDLE = 111
};

/* What a place in the file means: decides the values written there. */
enum sem {
    SEM_NONE,
    SEM_VERSION,
    SEM_BUILTIN,
    SEM_OPVERSION,
    SEM_OPCODE,
    SEM_TENSOR,
    SEM_BUFFER,
    SEM_SUBGRAPH,
    SEM_DIM,
    SEM_TTYPE,
    SEM_BOOL,
    SEM_FLOAT,
    SEM_ZP,
    SEM_QDIM,
    SEM_AXIS,
    SEM_FORMAT,
    SEM_UTYPE,
    SEM_SEGMENT,
    SEM_OPTTYPE,
    SEM_OPTFIELD,
    SEM_DATA,
    SEM_EXT,
    SEM_CHAR,
    SEM_BYTE,
    /* the format's own structure */
    SEM_VLEN,
    SEM_VTENTRY,
    SEM_VTHEAD,
    SEM_SOFF,
    SEM_UOFF,
    SEM_TABLES,
    SEM_COUNT
};

typedef struct {
    uint32_t pos;
    uint8_t width; /* 1, 2, 4 or 8 bytes */
    uint8_t sem;
    int32_t range; /* count of what an index points into, a tensor's rank, a table's size */
} site;

typedef struct {
    uint32_t field; /* position of the uoffset that points at the vector */
    uint32_t elems; /* position of element 0 */
    uint32_t count;
    uint8_t width;
    uint8_t sem; /* of the elements; SEM_TABLES for a vector of table offsets */
    int32_t range;
} vsite;

typedef struct {
    size_t pos, vt;
    uint16_t vt_size, size;
} tbl;

#define SITES_PER_SEM 512
#define MAX_VSITES 1024
#define MAX_VTABLES 512
#define WALK_BUDGET 200000u /* elements visited per walk */

static struct {
    const uint8_t *d;
    size_t n;
    uint32_t budget;
    site sites[SEM_COUNT][SITES_PER_SEM]; /* one reservoir per meaning, so rare fields count */
    uint32_t nsites[SEM_COUNT], seen_sites[SEM_COUNT];
    vsite vs[MAX_VSITES];
    uint32_t nvs, seen_vs;
    uint32_t vts[MAX_VTABLES];
    uint32_t nvt, seen_vt;
} W;

/* ------------------------------------------------------------------ random numbers */
static uint64_t rng;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* splitmix64 of libFuzzer's seed: xorshift's first outputs from close seeds are alike. */
static void seed_rng(unsigned int seed, size_t size)
{
    uint64_t z = ((uint64_t)seed << 32 | (uint32_t)size) + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    rng = (z ^ (z >> 31)) | 1;
}

static uint32_t below(uint32_t n)
{
    return n ? rnd() % n : 0;
}

/* Reservoir sampling keeps each list a uniform sample however big the model is. */
static int slot_for(uint32_t *n, uint32_t *seen, uint32_t cap)
{
    uint32_t j;
    ++*seen;
    if (*n < cap)
        return (int)(*n)++;
    j = below(*seen);
    return j < cap ? (int)j : -1;
}

static void add_site(size_t pos, int width, int sem, int32_t range)
{
    int k;
    if (sem == SEM_NONE || sem >= SEM_COUNT)
        return;
    k = slot_for(&W.nsites[sem], &W.seen_sites[sem], SITES_PER_SEM);
    if (k >= 0)
        W.sites[sem][k] = (site){(uint32_t)pos, (uint8_t)width, (uint8_t)sem, range};
}

/* ------------------------------------------------------------------ bounded reading */
static int has(size_t pos, size_t len)
{
    return pos <= W.n && W.n - pos >= len;
}

static uint32_t rd(const uint8_t *p, int width)
{
    uint32_t v = 0;
    int i;
    for (i = 0; i < width && i < 4; ++i)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static int table_at(size_t pos, tbl *t)
{
    int32_t soff;
    int64_t vt;
    uint32_t e;
    int k;
    if (pos % 4 != 0 || !has(pos, 4))
        return 0;
    soff = (int32_t)rd(W.d + pos, 4);
    vt = (int64_t)pos - soff;
    if (vt < 0 || vt % 2 != 0 || !has((size_t)vt, 4))
        return 0;
    t->pos = pos;
    t->vt = (size_t)vt;
    t->vt_size = (uint16_t)rd(W.d + t->vt, 2);
    t->size = (uint16_t)rd(W.d + t->vt + 2, 2);
    if (t->vt_size < 4 || t->vt_size % 2 != 0 || !has(t->vt, t->vt_size))
        return 0;
    if (t->size < 4 || !has(pos, t->size))
        return 0;
    add_site(pos, 4, SEM_SOFF, 0);
    add_site(t->vt, 2, SEM_VTHEAD, 0);
    add_site(t->vt + 2, 2, SEM_VTHEAD, 0);
    for (e = 4; e < t->vt_size; e += 2)
        add_site(t->vt + e, 2, SEM_VTENTRY, t->size);
    k = slot_for(&W.nvt, &W.seen_vt, MAX_VTABLES);
    if (k >= 0)
        W.vts[k] = (uint32_t)t->vt;
    return 1;
}

static size_t field_pos(const tbl *t, int slot, size_t width)
{
    size_t e = 4 + 2 * (size_t)slot;
    uint16_t off;
    if (e + 2 > t->vt_size)
        return 0;
    off = (uint16_t)rd(W.d + t->vt + e, 2);
    if (off == 0 || (size_t)off + width > t->size)
        return 0;
    return t->pos + off;
}

/* A scalar field: its site, and its value (or def when absent). */
static uint32_t scalar(const tbl *t, int slot, int width, int sem, int32_t range, uint32_t def)
{
    size_t p = field_pos(t, slot, (size_t)width);
    if (p == 0)
        return def;
    add_site(p, width, sem, range);
    return rd(W.d + p, width);
}

/* Follows an offset field; records it as a structural site. */
static int ref(const tbl *t, int slot, size_t *field, size_t *target)
{
    size_t p = field_pos(t, slot, 4);
    uint32_t off;
    if (p == 0)
        return 0;
    off = rd(W.d + p, 4);
    if (off == 0 || !has(p + off, 0))
        return 0;
    add_site(p, 4, SEM_UOFF, 0);
    *field = p;
    *target = p + off;
    return 1;
}

static int child(const tbl *t, int slot, tbl *out)
{
    size_t f, x;
    return ref(t, slot, &f, &x) && table_at(x, out);
}

/* A vector field: its length site, a resizable entry, and (elem_sites) each element's site.
 * Returns the element count (0 when absent or broken); *elems gets element 0's position. */
static uint32_t vector(const tbl *t, int slot, int width, int sem, int32_t range, int elem_sites,
                       size_t *elems)
{
    size_t f, x;
    uint32_t count, i;
    int k;
    *elems = 0;
    if (!ref(t, slot, &f, &x) || x % 4 != 0 || !has(x, 4))
        return 0;
    count = rd(W.d + x, 4);
    add_site(x, 4, SEM_VLEN, 0);
    if ((uint64_t)count * (uint64_t)width > W.n - x - 4)
        return 0;
    *elems = x + 4;
    if (sem != SEM_NONE) {
        k = slot_for(&W.nvs, &W.seen_vs, MAX_VSITES);
        if (k >= 0)
            W.vs[k] =
                (vsite){(uint32_t)f, (uint32_t)(x + 4), count, (uint8_t)width, (uint8_t)sem, range};
    }
    if (elem_sites && sem != SEM_TABLES)
        for (i = 0; i < count && W.budget > 0; ++i, --W.budget)
            add_site(x + 4 + (size_t)i * (size_t)width, width, sem, range);
    return count;
}

/* Table i of a vector of table offsets. */
static int element(size_t elems, uint32_t i, tbl *out)
{
    size_t p = elems + 4 * (size_t)i;
    uint32_t off;
    if (W.budget == 0 || !has(p, 4))
        return 0;
    --W.budget;
    off = rd(W.d + p, 4);
    if (off == 0 || !has(p + off, 0))
        return 0;
    return table_at(p + off, out);
}

static void string_chars(const tbl *t, int slot)
{
    size_t e;
    uint32_t n = vector(t, slot, 1, SEM_NONE, 0, 0, &e), i;
    for (i = 0; i < n && i < 16; ++i)
        add_site(e + i, 1, SEM_CHAR, 0);
}

/* ------------------------------------------------------------------ the TFLite walk */
static void walk_generic_options(const tbl *t)
{
    uint16_t offs[64];
    int n = 0, i, j;
    uint32_t e;
    for (e = 4; e < t->vt_size && n < 64; e += 2) {
        uint16_t off = (uint16_t)rd(W.d + t->vt + e, 2);
        if (off >= 4 && off < t->size)
            offs[n++] = off;
    }
    for (i = 1; i < n; ++i) /* insertion sort by offset */
        for (j = i; j > 0 && offs[j - 1] > offs[j]; --j) {
            uint16_t s = offs[j];
            offs[j] = offs[j - 1];
            offs[j - 1] = s;
        }
    for (i = 0; i < n; ++i) {
        int gap = (i + 1 < n ? offs[i + 1] : t->size) - offs[i];
        int width = gap >= 4 && offs[i] % 4 == 0 ? 4 : gap >= 2 && offs[i] % 2 == 0 ? 2 : 1;
        if (gap > 0)
            add_site(t->pos + offs[i], width, SEM_OPTFIELD, 0);
    }
}

static void walk_options(const tbl *op, uint32_t type, int32_t nsubgraphs)
{
    tbl t;
    size_t e;
    if (!child(op, 4, &t))
        return;
    switch (type) {
    case OPT_IF:
    case OPT_WHILE:
        scalar(&t, 0, 4, SEM_SUBGRAPH, nsubgraphs, 0);
        scalar(&t, 1, 4, SEM_SUBGRAPH, nsubgraphs, 0);
        break;
    case OPT_CALL_ONCE:
        scalar(&t, 0, 4, SEM_SUBGRAPH, nsubgraphs, 0);
        break;
    case OPT_RESHAPE:
        vector(&t, 0, 4, SEM_DIM, 0, 1, &e);
        break;
    case OPT_SQUEEZE:
        vector(&t, 0, 4, SEM_AXIS, 8, 1, &e);
        break;
    case OPT_VAR_HANDLE:
        string_chars(&t, 0);
        string_chars(&t, 1);
        break;
    default:
        walk_generic_options(&t);
    }
}

static void walk_sparsity(const tbl *tensor, int32_t rank)
{
    tbl sp, m, iv;
    size_t e, me;
    uint32_t nblocks, nmeta, i;
    int k;
    if (!child(tensor, 6, &sp))
        return;
    nblocks = vector(&sp, 1, 4, SEM_AXIS, rank, 1, &e);
    vector(&sp, 0, 4, SEM_AXIS, rank + (int32_t)(nblocks & 0xff), 1, &e);
    nmeta = vector(&sp, 2, 4, SEM_TABLES, 0, 0, &me);
    for (i = 0; i < nmeta; ++i) {
        int32_t dense;
        if (!element(me, i, &m))
            continue;
        scalar(&m, 0, 1, SEM_FORMAT, 0, 0);
        dense = (int32_t)scalar(&m, 1, 4, SEM_DIM, 0, 0);
        for (k = 0; k < 2; ++k) { /* array_segments (slots 2, 3), array_indices (4, 5) */
            uint32_t kind = scalar(&m, 2 + 2 * k, 1, SEM_UTYPE, 4, 0);
            int width = kind == 1 ? 4 : kind == 2 ? 2 : 1;
            if (kind >= 1 && kind <= 3 && child(&m, 3 + 2 * k, &iv))
                vector(&iv, 0, width, SEM_SEGMENT, dense, 1, &e);
        }
    }
}

static void walk_tensor(const tbl *t, int32_t nbuffers)
{
    tbl q;
    size_t e;
    int32_t rank = (int32_t)vector(t, 0, 4, SEM_DIM, 0, 1, &e);
    scalar(t, 1, 1, SEM_TTYPE, 0, 0);
    scalar(t, 2, 4, SEM_BUFFER, nbuffers, 0);
    scalar(t, 5, 1, SEM_BOOL, 0, 0);
    vector(t, 7, 4, SEM_DIM, 0, 1, &e);
    scalar(t, 8, 1, SEM_BOOL, 0, 0);
    if (child(t, 4, &q)) {
        vector(&q, 0, 4, SEM_FLOAT, 0, 1, &e);
        vector(&q, 1, 4, SEM_FLOAT, 0, 1, &e);
        vector(&q, 2, 4, SEM_FLOAT, 0, 1, &e);
        vector(&q, 3, 8, SEM_ZP, 0, 1, &e);
        scalar(&q, 4, 1, SEM_UTYPE, 2, 0);
        scalar(&q, 6, 4, SEM_QDIM, rank, 0);
    }
    walk_sparsity(t, rank);
}

static void walk_operator(const tbl *op, int32_t ntensors, int32_t nopcodes, int32_t nsubgraphs)
{
    size_t e;
    uint32_t type;
    scalar(op, 0, 4, SEM_OPCODE, nopcodes, 0);
    vector(op, 1, 4, SEM_TENSOR, ntensors, 1, &e);
    vector(op, 2, 4, SEM_TENSOR, ntensors, 1, &e);
    vector(op, 7, 1, SEM_BOOL, 0, 1, &e);
    vector(op, 8, 4, SEM_TENSOR, ntensors, 1, &e);
    type = scalar(op, 3, 1, SEM_OPTTYPE, 0, 0);
    scalar(op, 11, 1, SEM_OPTTYPE, 0, 0);
    walk_options(op, type, nsubgraphs);
}

static void walk_model(void)
{
    tbl m, t, s;
    size_t ops_e, bufs_e, sgs_e, e, te, oe;
    uint32_t nops, nbufs, nsgs, nt, nop, i, j;
    if (W.n < 8 || !table_at(rd(W.d, 4), &m))
        return;
    add_site(0, 4, SEM_UOFF, 0);
    scalar(&m, 0, 4, SEM_VERSION, 0, 0);
    nops = vector(&m, 1, 4, SEM_TABLES, 0, 0, &ops_e);
    nsgs = vector(&m, 2, 4, SEM_TABLES, 0, 0, &sgs_e);
    nbufs = vector(&m, 4, 4, SEM_TABLES, 0, 0, &bufs_e);
    for (i = 0; i < nops; ++i)
        if (element(ops_e, i, &t)) {
            scalar(&t, 0, 1, SEM_BUILTIN, 0, 0);
            scalar(&t, 3, 4, SEM_BUILTIN, 0, 0);
            scalar(&t, 2, 4, SEM_OPVERSION, 0, 0);
        }
    for (i = 0; i < nbufs; ++i)
        if (element(bufs_e, i, &t)) {
            uint32_t n = vector(&t, 0, 1, SEM_NONE, 0, 0, &e);
            size_t f, x;
            /* small buffers hold shapes, indices, axes: their int32 words are worth steering */
            if (n > 0 && n <= 4096 && ref(&t, 0, &f, &x)) {
                int k = slot_for(&W.nvs, &W.seen_vs, MAX_VSITES);
                if (k >= 0)
                    W.vs[k] = (vsite){(uint32_t)f, (uint32_t)e, n, 1, SEM_BYTE, 0};
            }
            if (n > 0 && n <= 64 && n % 4 == 0)
                for (j = 0; j < n / 4; ++j)
                    add_site(e + 4 * (size_t)j, 4, SEM_DATA, 0);
            scalar(&t, 1, 8, SEM_EXT, 0, 0);
            scalar(&t, 2, 8, SEM_EXT, 0, 0);
        }
    for (i = 0; i < nsgs; ++i) {
        if (!element(sgs_e, i, &s))
            continue;
        nt = vector(&s, 0, 4, SEM_TABLES, 0, 0, &te);
        vector(&s, 1, 4, SEM_TENSOR, (int32_t)nt, 1, &e);
        vector(&s, 2, 4, SEM_TENSOR, (int32_t)nt, 1, &e);
        nop = vector(&s, 3, 4, SEM_TABLES, 0, 0, &oe);
        for (j = 0; j < nt; ++j)
            if (element(te, j, &t))
                walk_tensor(&t, (int32_t)nbufs);
        for (j = 0; j < nop; ++j)
            if (element(oe, j, &t))
                walk_operator(&t, (int32_t)nt, (int32_t)nops, (int32_t)nsgs);
    }
    nop = vector(&m, 6, 4, SEM_TABLES, 0, 0, &e); /* metadata: buffer index */
    for (i = 0; i < nop; ++i)
        if (element(e, i, &t))
            scalar(&t, 1, 4, SEM_BUFFER, (int32_t)nbufs, 0);
    nop = vector(&m, 7, 4, SEM_TABLES, 0, 0, &e); /* signature_defs: subgraph index */
    for (i = 0; i < nop; ++i)
        if (element(e, i, &t))
            scalar(&t, 4, 4, SEM_SUBGRAPH, (int32_t)nsgs, 0);
}

static void collect(const uint8_t *d, size_t n)
{
    memset(W.nsites, 0, sizeof W.nsites);
    memset(W.seen_sites, 0, sizeof W.seen_sites);
    W.nvs = W.seen_vs = W.nvt = W.seen_vt = 0;
    W.d = d;
    W.n = n;
    W.budget = WALK_BUDGET;
    walk_model();
}

/* ------------------------------------------------------------------ values */
static void wr(uint8_t *p, int width, uint64_t v)
{
    int i;
    for (i = 0; i < width; ++i)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t rd64(const uint8_t *p, int width)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < width; ++i)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int64_t sext(uint64_t v, int width)
{
    if (width >= 8)
        return (int64_t)v;
    v &= ((uint64_t)1 << (8 * width)) - 1;
    if (v >> (8 * width - 1))
        v |= ~(((uint64_t)1 << (8 * width)) - 1);
    return (int64_t)v;
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static uint64_t pick_float(uint32_t old_bits)
{
    static const uint32_t special[] = {0x00000000u, 0x80000000u, 0x7fc00000u, 0x7f800000u,
                                       0xff800000u, 0x00000001u, 0x00800000u, 0x7f7fffffu,
                                       0x3f800000u, 0xbf800000u, 0x3a83126fu /* 1e-3 */};
    float f;
    memcpy(&f, &old_bits, 4);
    switch (below(6)) {
    case 0:
        return special[below(sizeof special / sizeof special[0])];
    case 1:
        return float_bits(f * 2.0f);
    case 2:
        return float_bits(f * 0.5f);
    case 3:
        return float_bits(-f);
    case 4:
        return float_bits(below(2) ? f * 1e10f : f * 1e-10f);
    default:
        return old_bits ^ (1u << below(32));
    }
}

static int64_t pick_index(int64_t old, int32_t range)
{
    static const int64_t odd[] = {-1, 0x7fffffff, -0x7fffffff - 1, 0x10000, 0xffff};
    switch (below(10)) {
    case 0:
        return -1;
    case 1:
        return range;
    case 2:
        return old + (below(2) ? 1 : -1);
    case 3:
        return odd[below(sizeof odd / sizeof odd[0])];
    default:
        return range > 0 ? (int64_t)below((uint32_t)range) : 0;
    }
}

static int64_t pick_dim(int64_t old)
{
    static const int64_t odd[] = {0x7fffffff, 0x10000, 0x40000000, 46341, 65535, -0x7fffffff - 1};
    switch (below(9)) {
    case 0:
        return 0;
    case 1:
        return 1;
    case 2:
        return -1;
    case 3:
        return old + 1;
    case 4:
        return old - 1;
    case 5:
        return old * 2;
    case 6:
        return odd[below(sizeof odd / sizeof odd[0])];
    default:
        return 1 + below(16);
    }
}

static int64_t pick_small(int64_t old, int width)
{
    static const int64_t odd[] = {-1,     0x7f,   0x80,       0xff,
                                  0x7fff, 0x8000, 0x7fffffff, -0x7fffffff - 1};
    switch (below(6)) {
    case 0:
        return below(8);
    case 1:
        return old + 1;
    case 2:
        return old - 1;
    case 3:
        return odd[below(sizeof odd / sizeof odd[0])];
    case 4:
        return (int64_t)rnd() & (width >= 4 ? 0xffffffffLL : ((int64_t)1 << (8 * width)) - 1);
    default:
        return old ^ ((int64_t)1 << below(8 * (unsigned)(width > 4 ? 4 : width)));
    }
}

/* A new value for a site, given what it means. */
static uint64_t pick(const site *s, const uint8_t *p)
{
    uint64_t raw = rd64(p, s->width);
    int64_t old = sext(raw, s->width);
    switch (s->sem) {
    case SEM_VERSION: {
        static const int64_t v[] = {3, 2, 4, 0, -1};
        return (uint64_t)v[below(5)];
    }
    case SEM_BUILTIN:
        return below(8) == 0 ? (uint64_t)pick_small(old, s->width)
                             : below(s->width == 1 ? 128 : 210);
    case SEM_OPVERSION:
        return below(8);
    case SEM_OPCODE:
    case SEM_TENSOR:
    case SEM_BUFFER:
    case SEM_SUBGRAPH:
        return (uint64_t)pick_index(old, s->range);
    case SEM_DIM:
        return (uint64_t)pick_dim(old);
    case SEM_TTYPE:
        return below(8) == 0 ? 0xff : below(18);
    case SEM_BOOL: {
        static const uint8_t v[] = {0, 1, 2, 0xff};
        return v[below(4)];
    }
    case SEM_FLOAT:
        return pick_float((uint32_t)raw);
    case SEM_ZP: {
        static const int64_t v[] = {0,   1,      -1,    -128,         127,
                                    255, -32768, 32767, 0x80000000LL, INT64_MIN};
        return below(3) ? (uint64_t)v[below(10)] : raw + (below(2) ? 1u : ~0ull);
    }
    case SEM_QDIM:
    case SEM_AXIS:
        return below(6) ? (uint64_t)((int64_t)below((uint32_t)(s->range + 2)) - 1)
                        : (uint64_t)pick_index(old, s->range);
    case SEM_FORMAT: {
        static const uint8_t v[] = {0, 1, 2, 0xff};
        return v[below(4)];
    }
    case SEM_UTYPE:
        return below((uint32_t)s->range + 2);
    case SEM_SEGMENT:
        switch (below(6)) {
        case 0:
            return 0;
        case 1:
            return (uint64_t)(old + 1);
        case 2:
            return (uint64_t)(old - 1);
        case 3:
            return (uint64_t)s->range;
        case 4:
            return below((uint32_t)(s->range > 0 ? s->range + 1 : 2));
        default:
            return ~(uint64_t)0; /* the width's maximum (or -1) */
        }
    case SEM_OPTTYPE:
        return below(8) == 0 ? 0xff : below(128);
    case SEM_DATA:
        return below(2) ? (uint64_t)pick_dim(old) : (uint64_t)pick_small(old, 4);
    case SEM_EXT: {
        static const uint64_t v[] = {0, 1, 16, 0x7fffffffffffffffULL, ~0ULL};
        return below(2) ? v[below(5)] : (uint64_t)(W.n - below(64));
    }
    case SEM_CHAR: {
        static const uint8_t v[] = {'a', 'b', 'c', 0};
        return v[below(4)];
    }
    case SEM_VLEN: {
        static const uint64_t v[] = {0, 0xffffffffu, 0x7fffffffu, 0x40000000u};
        switch (below(5)) {
        case 0:
            return v[below(4)];
        case 1:
            return raw + 1;
        case 2:
            return raw - 1;
        case 3:
            return raw * 2;
        default:
            return raw + 1 + below(16);
        }
    }
    case SEM_VTENTRY:
        switch (below(5)) {
        case 0:
            return 0;
        case 1:
            return raw + (below(2) ? 4 : 2);
        case 2:
            return raw - (below(2) ? 4 : 2);
        case 3:
            return below(2) ? 0xffff : (uint64_t)s->range;
        default:
            return below((uint32_t)s->range + 16);
        }
    case SEM_VTHEAD: {
        static const int64_t d[] = {2, -2, 4, -4, 0x10000 - 1};
        return raw + (uint64_t)d[below(5)];
    }
    case SEM_SOFF:
        if (W.nvt > 0 && below(3))
            return (uint64_t)((int64_t)s->pos - (int64_t)W.vts[below(W.nvt)]);
        return (uint64_t)(old + (int64_t)(below(2) ? 4 : -4) * (int64_t)(1 + below(4)));
    case SEM_UOFF:
        switch (below(4)) {
        case 0:
            return 0;
        case 1:
            return (uint64_t)(W.n - s->pos - 4 * below(4));
        default:
            return raw + (uint64_t)((int64_t)(below(2) ? 4 : -4) * (int64_t)(1 + below(8)));
        }
    default:
        return (uint64_t)pick_small(old, s->width);
    }
}

/* ------------------------------------------------------------------ mutations */
static int patch_site(uint8_t *d, const site *s)
{
    uint32_t i, start;
    /* a fifth of the time: copy the value of another place that means the same */
    uint32_t n = W.nsites[s->sem];
    if (below(5) == 0 && n > 1 && s->sem < SEM_VLEN) {
        start = below(n);
        for (i = 0; i < n; ++i) {
            const site *o = &W.sites[s->sem][(start + i) % n];
            if (o->sem == s->sem && o->width == s->width && o->pos != s->pos) {
                memmove(d + s->pos, d + o->pos, s->width);
                return 1;
            }
        }
    }
    wr(d + s->pos, s->width, pick(s, d + s->pos));
    return 1;
}

/* Element i of a vector of tables now points at element j's table (a repeated operator,
 * tensor, subgraph...), or two scalar elements change places. */
static int redirect_or_swap(uint8_t *d, const vsite *v)
{
    uint32_t i, j;
    if (v->count < 2)
        return 0;
    i = below(v->count);
    j = below(v->count);
    if (i == j)
        j = (i + 1) % v->count;
    if (v->sem == SEM_TABLES) {
        size_t pi = v->elems + 4 * (size_t)i, pj = v->elems + 4 * (size_t)j;
        size_t target = pj + rd(d + pj, 4);
        if (target <= pi)
            return 0;
        wr(d + pi, 4, target - pi);
    } else {
        uint8_t tmp[8];
        memcpy(tmp, d + v->elems + (size_t)i * v->width, v->width);
        memmove(d + v->elems + (size_t)i * v->width, d + v->elems + (size_t)j * v->width, v->width);
        memcpy(d + v->elems + (size_t)j * v->width, tmp, v->width);
    }
    return 1;
}

/* A copy of the vector with a new length appended at the end (16-aligned elements), and the
 * offset field pointed at it. Returns the new size, or 0 when it does not fit. */
static size_t resize_vector(uint8_t *d, size_t size, size_t max_size, const vsite *v)
{
    uint32_t n, keep, i;
    size_t start, need;
    switch (below(6)) {
    case 0:
        n = 0;
        break;
    case 1:
        n = v->count * 2;
        break;
    case 2:
        n = v->count + 1 + below(4);
        break;
    case 3:
    case 4:
        n = v->count + 1;
        break;
    default:
        n = v->count ? v->count - 1 : 1;
    }
    if (n > 4096)
        n = 4096;
    start = (size + 4 + 15) / 16 * 16 - 4; /* count word, then 16-aligned elements */
    need = start + 4 + (size_t)n * v->width;
    if (need > max_size || start + 4 > 0xffffffffu)
        return 0;
    memset(d + size, 0, start - size);
    wr(d + start, 4, n);
    keep = n < v->count ? n : v->count;
    memmove(d + start + 4, d + v->elems, (size_t)keep * v->width);
    for (i = keep; i < n; ++i) { /* new elements: the last one again, or a fresh pick */
        uint8_t *p = d + start + 4 + (size_t)i * v->width;
        if (i > 0 && below(2)) {
            memcpy(p, p - v->width, v->width);
        } else {
            site s = {(uint32_t)(start + 4 + (size_t)i * v->width), v->width, v->sem, v->range};
            memset(p, 0, v->width);
            if (v->sem != SEM_BYTE && v->sem != SEM_TABLES)
                wr(p, v->width, pick(&s, p));
        }
    }
    wr(d + v->field, 4, start - v->field);
    return start + 4 + (size_t)n * v->width;
}

static int present_sems(int lo, int hi)
{
    int s, n = 0;
    for (s = lo; s < hi; ++s)
        n += W.nsites[s] > 0;
    return n;
}

/* A meaning in [lo, hi) chosen uniformly among those the model has, then one of its places. */
static const site *pick_site(int lo, int hi)
{
    int n = present_sems(lo, hi), k, s;
    if (n == 0)
        return NULL;
    k = (int)below((uint32_t)n);
    for (s = lo; s < hi; ++s)
        if (W.nsites[s] > 0 && k-- == 0)
            return &W.sites[s][below(W.nsites[s])];
    return NULL;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    int rounds, r, done = 0;
    seed_rng(seed, size);
    if (size > max_size || below(8) == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    collect(data, size);
    if (!present_sems(SEM_NONE + 1, SEM_COUNT))
        return LLVMFuzzerMutate(data, size, max_size);
    rounds = below(4) == 0 ? 2 + (int)below(2) : 1;
    for (r = 0; r < rounds; ++r) {
        uint32_t k = below(100);
        const site *s;
        if (k < 60 && (s = pick_site(SEM_NONE + 1, SEM_VLEN)) != NULL) {
            done |= patch_site(data, s);
        } else if (k < 75 && (s = pick_site(SEM_VLEN, SEM_COUNT)) != NULL) {
            done |= patch_site(data, s);
        } else if (k < 90 && W.nvs > 0) {
            const vsite *v = &W.vs[below(W.nvs)];
            size_t grown = v->sem == SEM_TABLES ? 0 : resize_vector(data, size, max_size, v);
            if (grown) {
                size = grown;
                done = 1;
                break; /* later sites may sit in bytes that moved */
            }
        } else if (W.nvs > 0) {
            done |= redirect_or_swap(data, &W.vs[below(W.nvs)]);
        }
    }
    return done ? size : LLVMFuzzerMutate(data, size, max_size);
}
