/* Arena planning.
 *
 * Layout of the arena: [ persistent (bookkeeping, op data, variables) | planned region ].
 * The planned region holds one region per reachable subgraph, one after the other. Inside a
 * subgraph region every non-constant tensor and every node's scratch is a buffer with a
 * lifetime [first op, last op]:
 *
 * Greedy planner (the algorithm of TFLM's greedy_memory_planner.h, tried in four orders):
 *   1. Reshape-like ops (EL_KERNEL_INPLACE) merge their output into their input's buffer.
 *   2. Sort buffers: by size, largest first (TFLM's order); or by first use; or by lifetime;
 *      or by size x lifetime (ties: size, first use, index).
 *   3. Place each at the lowest 16-aligned offset where it overlaps no already placed buffer
 *      whose lifetime overlaps its own.
 *   4. The region size is the highest end offset; the order giving the smallest one wins.
 * Linear planner: every buffer gets its own bytes in tensor order (all tensors stay readable
 * after invoke); the scratch buffers share one slot at the end.
 *
 * Working memory (per-tensor and per-buffer arrays) is taken from the arena just after the
 * persistent part, before the planned region is used; the required size counts it. */
#include "el_internal.h"

typedef struct {
    uint32_t size, offset;
    int32_t first, last;
} pbuf;

static size_t align16(size_t x)
{
    return (x + 15u) & ~(size_t)15u;
}

static int plannable(const el_tensor *t)
{
    return !(t->flags & (EL_TENSOR_CONST | EL_TENSOR_VARIABLE | EL_TENSOR_BORROWED)) &&
           t->bytes > 0;
}

/* Upper bound on the buffers of a subgraph (before aliasing and liveness are known). */
static int32_t max_buffers(const el_subgraph *g)
{
    int32_t i, n = 0;
    for (i = 0; i < g->n_tensors; ++i)
        n += plannable(&g->tensors[i]);
    for (i = 0; i < g->n_nodes; ++i)
        n += g->nodes[i].scratch != NULL;
    return n;
}

/* Working memory: per tensor root/first/last/buffer index; per buffer pbuf + order + placed +
 * owner. */
static size_t temp_bytes(const el_subgraph *g)
{
    size_t nb = (size_t)max_buffers(g);
    return align16(4 * 4 * (size_t)g->n_tensors) + align16(sizeof(pbuf) * nb) + align16(3 * 4 * nb);
}

static int32_t find_root(const int32_t *root, int32_t x)
{
    while (root[x] != x)
        x = root[x];
    return x;
}

static int time_overlap(const pbuf *a, const pbuf *b)
{
    return a->first <= b->last && b->first <= a->last;
}

/* b before a in placement order `mode`? Ties always end on the index: deterministic. */
static int goes_before(const pbuf *b, int32_t bi, const pbuf *a, int32_t ai, int mode)
{
    uint64_t lb = (uint64_t)(b->last - b->first + 1), la = (uint64_t)(a->last - a->first + 1);
    switch (mode) {
    case 1: /* by first use, then size */
        if (b->first != a->first)
            return b->first < a->first;
        break;
    case 2: /* longest lifetime first */
        if (lb != la)
            return lb > la;
        break;
    case 3: /* largest size x lifetime first */
        if (lb * b->size != la * a->size)
            return lb * b->size > la * a->size;
        break;
    default:
        break;
    }
    if (b->size != a->size)
        return b->size > a->size;
    if (b->first != a->first)
        return b->first < a->first;
    return bi < ai;
}

/* One greedy placement in `mode` order; returns the region size. */
static uint32_t place_greedy_mode(pbuf *bufs, int32_t n, int32_t *order, int32_t *placed, int mode)
{
    int32_t i, j, n_placed = 0;
    uint32_t total = 0;
    /* insertion sort: deterministic, no recursion, n is small (tensors of one subgraph) */
    for (i = 0; i < n; ++i) {
        int32_t x = i;
        for (j = i; j > 0 && goes_before(&bufs[x], x, &bufs[order[j - 1]], order[j - 1], mode); --j)
            order[j] = order[j - 1];
        order[j] = x;
    }
    for (i = 0; i < n; ++i) {
        pbuf *b = &bufs[order[i]];
        uint32_t cand = 0;
        for (j = 0; j < n_placed; ++j) { /* placed[] is sorted by offset */
            const pbuf *p = &bufs[placed[j]];
            if (!time_overlap(p, b))
                continue;
            if (p->offset >= cand + b->size)
                break;
            if ((uint32_t)align16(p->offset + p->size) > cand)
                cand = (uint32_t)align16(p->offset + p->size);
        }
        b->offset = cand;
        for (j = n_placed; j > 0 && bufs[placed[j - 1]].offset > cand; --j)
            placed[j] = placed[j - 1];
        placed[j] = order[i];
        ++n_placed;
        if ((uint32_t)align16(cand + b->size) > total)
            total = (uint32_t)align16(cand + b->size);
    }
    return total;
}

/* Greedy placement under four orders (size; first use; lifetime; size x lifetime), keeping
 * the smallest region: TFLM's order alone is not always the best for small streaming models. */
static uint32_t place_greedy(pbuf *bufs, int32_t n, int32_t *order, int32_t *placed)
{
    int mode, best_mode = 0;
    uint32_t best = 0;
    for (mode = 0; mode < 4; ++mode) {
        uint32_t total = place_greedy_mode(bufs, n, order, placed, mode);
        if (mode == 0 || total < best) {
            best = total;
            best_mode = mode;
        }
    }
    return place_greedy_mode(bufs, n, order, placed, best_mode);
}

static uint32_t place_linear(pbuf *bufs, const int32_t *owner, int32_t n)
{
    uint32_t total = 0, scratch = 0;
    int32_t i;
    for (i = 0; i < n; ++i) {
        if (owner[i] < 0) {
            if (bufs[i].size > scratch)
                scratch = bufs[i].size;
            continue;
        }
        bufs[i].offset = total;
        total = (uint32_t)align16(total + bufs[i].size);
    }
    for (i = 0; i < n; ++i)
        if (owner[i] < 0)
            bufs[i].offset = total;
    return (uint32_t)align16(total + scratch);
}

/* Plans subgraph sg in temp (temp_bytes(g) bytes); sets g->region_size. When base != NULL
 * also sets data/scratch pointers (region at base). */
static el_status plan_subgraph(el_context *ctx, int32_t sg, uint8_t *temp, uint8_t *base)
{
    el_subgraph *g = &ctx->subgraphs[sg];
    int32_t nt = g->n_tensors, nn = g->n_nodes;
    int32_t *root = (int32_t *)(void *)temp;
    int32_t *first = root + nt, *last = first + nt, *bufidx = last + nt;
    int32_t maxb = max_buffers(g);
    pbuf *bufs = (pbuf *)(void *)(temp + align16(4 * 4 * (size_t)nt));
    int32_t *order = (int32_t *)(void *)((uint8_t *)bufs + align16(sizeof(pbuf) * (size_t)maxb));
    int32_t *placed = order + maxb;
    int32_t *owner = placed + maxb; /* tensor index, or -(node index + 1) for scratch */
    int32_t i, k, nb = 0;
    uint64_t total;

    for (i = 0; i < nt; ++i) {
        root[i] = i;
        first[i] = 0x7FFFFFFF;
        last[i] = -1;
        bufidx[i] = -1;
    }
    for (i = 0; i < g->n_inputs; ++i) {
        first[g->inputs[i]] = 0;
        if (last[g->inputs[i]] < 0)
            last[g->inputs[i]] = 0;
    }
    for (i = 0; i < nn; ++i) {
        const el_node *n = &g->nodes[i];
        for (k = 0; k < n->n_inputs; ++k) {
            int32_t x = n->inputs[k];
            if (x < 0)
                continue;
            if (first[x] > i)
                first[x] = i;
            if (last[x] < i)
                last[x] = i;
        }
        for (k = 0; k < n->n_outputs; ++k) {
            int32_t x = n->outputs[k];
            if (first[x] > i)
                first[x] = i;
            if (last[x] < i)
                last[x] = i;
        }
    }
    for (i = 0; i < g->n_outputs; ++i) {
        int32_t x = g->outputs[i];
        if (first[x] > nn)
            first[x] = nn;
        last[x] = nn; /* read by the caller after the last op */
    }
    if (ctx->planner == EL_PLANNER_GREEDY) {
        for (i = 0; i < nn; ++i) {
            const el_node *n = &g->nodes[i];
            int32_t in, out, r;
            if (!(n->kernel->flags & EL_KERNEL_INPLACE) || n->n_inputs < 1 || n->n_outputs < 1)
                continue;
            in = n->inputs[0];
            out = n->outputs[0];
            if (in < 0 || !plannable(&g->tensors[in]) || !plannable(&g->tensors[out]) ||
                g->tensors[in].bytes != g->tensors[out].bytes)
                continue;
            r = find_root(root, in);
            root[out] = r;
            if (first[r] > first[out])
                first[r] = first[out];
            if (last[r] < last[out])
                last[r] = last[out];
        }
    }
    for (i = 0; i < nt; ++i) {
        const el_tensor *t = &g->tensors[i];
        if (!plannable(t) || last[i] < 0 || root[i] != i)
            continue;
        bufs[nb].size = t->bytes;
        bufs[nb].offset = 0;
        bufs[nb].first = first[i];
        bufs[nb].last = last[i];
        owner[nb] = i;
        bufidx[i] = nb++;
    }
    for (i = 0; i < nn; ++i) {
        if (g->nodes[i].scratch == NULL)
            continue;
        bufs[nb].size =
            (uint32_t)(uintptr_t)g->nodes[i].scratch; /* requested size, see el_request_scratch */
        bufs[nb].offset = 0;
        bufs[nb].first = i;
        bufs[nb].last = i;
        owner[nb] = -(i + 1);
        ++nb;
    }
    /* sizes are < 2^31 each; the sum of offsets may not fit in 32 bits */
    total = 0;
    for (i = 0; i < nb; ++i)
        total += align16(bufs[i].size);
    if (total > 0x7FFFFFF0u)
        return el_fail(ctx, NULL, EL_ERROR_UNSUPPORTED,
                       "subgraph %d needs more than 2 GB of tensors", (int)sg);
    g->region_size = ctx->planner == EL_PLANNER_GREEDY ? place_greedy(bufs, nb, order, placed)
                                                       : place_linear(bufs, owner, nb);
    if (base == NULL)
        return EL_OK;
    for (i = 0; i < nt; ++i) {
        el_tensor *t = &g->tensors[i];
        int32_t b;
        if (!plannable(t) || last[i] < 0)
            continue;
        b = bufidx[find_root(root, i)];
        if (b >= 0)
            t->data = base + bufs[b].offset;
    }
    for (i = 0; i < nb; ++i)
        if (owner[i] < 0)
            g->nodes[-owner[i] - 1].scratch = base + bufs[i].offset;
    return EL_OK;
}

el_status el_plan(el_context *ctx)
{
    size_t base_off = align16(ctx->persist_used), temp_need = 0, region = 0;
    int32_t sg;
    int pass;
    for (sg = 0; sg < ctx->n_subgraphs; ++sg)
        if (ctx->subgraphs[sg].reachable && temp_bytes(&ctx->subgraphs[sg]) > temp_need)
            temp_need = temp_bytes(&ctx->subgraphs[sg]);
    if (ctx->arena == NULL || base_off + temp_need > ctx->arena_size) {
        size_t regions;
        (void)el_model_lower_bound(ctx, &regions);
        ctx->required = base_off + (regions > temp_need ? regions : temp_need);
        ctx->required_exact = 0;
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    /* pass 0 sizes the regions; pass 1 (when everything fits) sets the pointers */
    for (pass = 0; pass < 2; ++pass) {
        region = 0;
        for (sg = 0; sg < ctx->n_subgraphs; ++sg) {
            el_subgraph *g = &ctx->subgraphs[sg];
            el_status st;
            if (!g->reachable)
                continue;
            g->region_offset = base_off + region;
            st = plan_subgraph(ctx, sg, ctx->arena + base_off,
                               pass ? ctx->arena + g->region_offset : NULL);
            if (st != EL_OK)
                return st;
            region += align16(g->region_size);
        }
        ctx->required = base_off + (region > temp_need ? region : temp_need);
        ctx->required_exact = 1;
        if (ctx->required > ctx->arena_size)
            return EL_ERROR_ARENA_TOO_SMALL;
    }
    return EL_OK;
}
