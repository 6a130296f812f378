/* Binary elementwise ops (ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE,
 * PRELU) with broadcasting: validation, output shape and quantized multipliers. */
#include <stddef.h>
#include <string.h>

#include "el_kcommon.h"
#include "opt/el_opt.h"

/* The ops of this family a selected-kernels build keeps (EL_WITH): the branches of the others
 * are left out of the shared prepare and invoke (about 1 KB of Cortex-M code each way). */
#if EL_WITH(sub)
#define WITH_SUB 1
#else
#define WITH_SUB 0
#endif
#if EL_WITH(mul)
#define WITH_MUL 1
#else
#define WITH_MUL 0
#endif
#if EL_WITH(div)
#define WITH_DIV 1
#else
#define WITH_DIV 0
#endif
#if EL_WITH(maximum) || EL_WITH(minimum)
#define WITH_MAXMIN 1
#else
#define WITH_MAXMIN 0
#endif
#if EL_WITH(squared_difference)
#define WITH_SQDIFF 1
#else
#define WITH_SQDIFF 0
#endif

/* The arena holds the prefix up to `pr` (binary ops) or up to `s1` (PRELU); the broadcast
 * shapes are rebuilt from the tensors at invoke (binary_view), a few dozen cycles per op. */
typedef struct {
    int32_t type;
    int32_t op; /* el_binary_op */
    el_arith_params p;
    el_prelu_params pr;
    el_shape s1, s2, so;
} binary_data;

/* Invoke's copy of the op data with the shapes filled in (prepare checked they broadcast). */
static const binary_data *binary_view(const el_node *node, const el_tensor *a, const el_tensor *b,
                                      size_t stored, binary_data *v)
{
    memcpy(v, node->op_data, stored);
    (void)el_k_broadcast(a, b, &v->s1, &v->s2, &v->so);
    return v;
}

static int32_t binary_op_of(int32_t code)
{
    switch (code) {
    case EL_OP_ADD:
        return EL_BIN_ADD;
    case EL_OP_SUB:
        return EL_BIN_SUB;
    case EL_OP_MUL:
        return EL_BIN_MUL;
    case EL_OP_DIV:
        return EL_BIN_DIV;
    case EL_OP_POW:
        return EL_BIN_POW;
    case EL_OP_MAXIMUM:
        return EL_BIN_MAXIMUM;
    case EL_OP_MINIMUM:
        return EL_BIN_MINIMUM;
    case EL_OP_FLOOR_DIV:
        return EL_BIN_FLOOR_DIV;
    case EL_OP_FLOOR_MOD:
        return EL_BIN_FLOOR_MOD;
    case EL_OP_ATAN2:
        return EL_BIN_ATAN2;
    default:
        return EL_BIN_SQUARED_DIFFERENCE;
    }
}

static el_status int32_act(el_context *ctx, el_node *node, int32_t act, int32_t *lo, int32_t *hi)
{
    switch (act) {
    case EL_ACT_NONE:
        *lo = INT32_MIN;
        *hi = INT32_MAX;
        return EL_OK;
    case EL_ACT_RELU:
        *lo = 0;
        *hi = INT32_MAX;
        return EL_OK;
    case EL_ACT_RELU6:
        *lo = 0;
        *hi = 6;
        return EL_OK;
    case EL_ACT_RELU_N1_TO_1:
        *lo = -1;
        *hi = 1;
        return EL_OK;
    default:
        return EL_UNSUP(ctx, node, "fused activation %d is not supported", (int)act);
    }
}

static el_status quant_add_sub(el_context *ctx, el_node *node, binary_data *d, int32_t act)
{
    float s1, s2, so;
    int32_t z1, z2, zo;
    double twice_max, m1, m2, mo;
    int sh1, sh2, sho;
    EL_TRY(el_k_qin(ctx, node, 0, &s1, &z1));
    EL_TRY(el_k_qin(ctx, node, 1, &s2, &z2));
    EL_TRY(el_k_qout(ctx, node, 0, &so, &zo));
    d->p.left_shift = d->type == EL_INT16 ? 15 : 20;
    if (d->type == EL_INT16 && (z1 != 0 || z2 != 0 || zo != 0)) {
        return EL_UNSUP(ctx, node, "int16 tensors need zero point 0");
    }
    twice_max = 2.0 * (double)(s1 > s2 ? s1 : s2);
    m1 = (double)s1 / twice_max;
    m2 = (double)s2 / twice_max;
    mo = twice_max / ((double)(1 << d->p.left_shift) * (double)so);
    el_quantize_multiplier(m1, &d->p.input1_multiplier, &sh1);
    el_quantize_multiplier(m2, &d->p.input2_multiplier, &sh2);
    el_quantize_multiplier(mo, &d->p.output_multiplier, &sho);
    if (sh1 > 0 || sh2 > 0 || sho > 0) {
        return EL_UNSUP(ctx, node,
                        "input/output scale ratio too large for the int8 scheme "
                        "(output scale must exceed max input scale / 2^%d)",
                        (int)d->p.left_shift);
    }
    d->p.input1_shift = sh1;
    d->p.input2_shift = sh2;
    d->p.output_shift = sho;
    d->p.input1_offset = -z1;
    d->p.input2_offset = -z2;
    d->p.output_offset = zo;
    return el_k_act_range(ctx, node, act, d->type, so, zo, &d->p.act_min, &d->p.act_max);
}

/* SQUARED_DIFFERENCE int8: TFLite scales both inputs to twice the larger input scale with a
 * left shift of 7, squares the difference, then rescales by (2 max)^2 / (2^14 out). */
static el_status quant_sqdiff(el_context *ctx, el_node *node, binary_data *d)
{
    float s1, s2, so;
    int32_t z1, z2, zo;
    double twice_max;
    int sh1, sh2, sho;
    EL_TRY(el_k_qin(ctx, node, 0, &s1, &z1));
    EL_TRY(el_k_qin(ctx, node, 1, &s2, &z2));
    EL_TRY(el_k_qout(ctx, node, 0, &so, &zo));
    /* int8 values gain 7 bits of headroom; int16 ones have none to spare (TFLite's) */
    d->p.left_shift = d->type == EL_INT16 ? 0 : 7;
    twice_max = 2.0 * (double)(s1 > s2 ? s1 : s2);
    el_quantize_multiplier((double)s1 / twice_max, &d->p.input1_multiplier, &sh1);
    el_quantize_multiplier((double)s2 / twice_max, &d->p.input2_multiplier, &sh2);
    el_quantize_multiplier(twice_max * twice_max /
                               ((double)(1 << (2 * d->p.left_shift)) * (double)so),
                           &d->p.output_multiplier, &sho);
    if (sh1 > 0 || sh2 > 0) {
        return EL_UNSUP(ctx, node, "input scales out of range for the int8 scheme");
    }
    d->p.input1_shift = sh1;
    d->p.input2_shift = sh2;
    d->p.output_shift = sho;
    d->p.input1_offset = -z1;
    d->p.input2_offset = -z2;
    d->p.output_offset = zo;
    el_k_qlimits(d->type, &d->p.act_min, &d->p.act_max);
    return EL_OK;
}

static el_status quant_mul(el_context *ctx, el_node *node, binary_data *d, int32_t act)
{
    float s1, s2, so;
    int32_t z1, z2, zo;
    int sh;
    EL_TRY(el_k_qin(ctx, node, 0, &s1, &z1));
    EL_TRY(el_k_qin(ctx, node, 1, &s2, &z2));
    EL_TRY(el_k_qout(ctx, node, 0, &so, &zo));
    /* As TFLite: int16 is symmetric; an offset would also overflow the int32 product. */
    if (d->type == EL_INT16 && (z1 != 0 || z2 != 0 || zo != 0)) {
        return EL_UNSUP(ctx, node, "int16 tensors need zero point 0");
    }
    el_quantize_multiplier((double)s1 * (double)s2 / (double)so, &d->p.output_multiplier, &sh);
    d->p.output_shift = sh;
    d->p.input1_offset = -z1;
    d->p.input2_offset = -z2;
    d->p.output_offset = zo;
    return el_k_act_range(ctx, node, act, d->type, so, zo, &d->p.act_min, &d->p.act_max);
}

/* Quantized MAXIMUM/MINIMUM compare raw values (as TFLite): meaningful only with one set of
 * parameters. */
static el_status maxmin_quant_check(el_context *ctx, el_node *node)
{
    float s1, s2, so;
    int32_t z1, z2, zo;
    EL_TRY(el_k_qin(ctx, node, 0, &s1, &z1));
    EL_TRY(el_k_qin(ctx, node, 1, &s2, &z2));
    EL_TRY(el_k_qout(ctx, node, 0, &so, &zo));
    if (s1 != so || s2 != so || z1 != zo || z2 != zo) {
        return EL_UNSUP(ctx, node, "inputs and output need the same scale and zero point");
    }
    return EL_OK;
}

static el_status binary_prepare(el_context *ctx, el_node *node)
{
    const el_arith_options *o = (const el_arith_options *)node->options;
    const int32_t code = node->builtin_code;
    const int has_act =
        code == EL_OP_ADD || code == EL_OP_SUB || code == EL_OP_MUL || code == EL_OP_DIV;
    const int32_t act = has_act && o ? o->activation : EL_ACT_NONE;
    el_tensor *a, *b, *out;
    binary_data *d;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &a));
    EL_TRY(el_k_in(ctx, node, 1, &b));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (a->type != b->type || a->type != out->type) {
        return EL_UNSUP(ctx, node, "inputs and output must have one type (got %s, %s -> %s)",
                        el_dtype_name(a->type), el_dtype_name(b->type), el_dtype_name(out->type));
    }
    d = (binary_data *)el_alloc_op_data(ctx, node, offsetof(binary_data, pr));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    {
        el_shape s1, s2, so;
        if (!el_k_broadcast(a, b, &s1, &s2, &so)) {
            return EL_UNSUP(ctx, node, "input shapes do not broadcast (or rank > %d)",
                            EL_NN_MAX_RANK);
        }
        EL_TRY(el_k_check_out_shape(ctx, node, out, &so));
    }
    d->type = a->type;
    d->op = binary_op_of(code);
    switch (a->type) {
    case EL_FLOAT32:
        if (!EL_KEEP_F32) {
            break;
        }
        return el_k_act_range_f(ctx, node, act, &d->p.act_min_f, &d->p.act_max_f);
    case EL_INT32:
        if (code == EL_OP_DIV || code == EL_OP_POW || code == EL_OP_ATAN2) {
            break;
        }
        return int32_act(ctx, node, act, &d->p.act_min, &d->p.act_max);
    case EL_INT8:
        if (code == EL_OP_ADD || code == EL_OP_SUB) {
            return quant_add_sub(ctx, node, d, act);
        }
        if (WITH_MUL && code == EL_OP_MUL) {
            return quant_mul(ctx, node, d, act);
        }
        if (WITH_MAXMIN && (code == EL_OP_MAXIMUM || code == EL_OP_MINIMUM)) {
            return maxmin_quant_check(ctx, node);
        }
        if (WITH_SQDIFF && code == EL_OP_SQUARED_DIFFERENCE) {
            return quant_sqdiff(ctx, node, d);
        }
        if (WITH_DIV && code == EL_OP_DIV) {
            float s1, s2, so;
            int32_t z1, z2, zo;
            int sh;
            EL_TRY(el_k_qin(ctx, node, 0, &s1, &z1));
            EL_TRY(el_k_qin(ctx, node, 1, &s2, &z2));
            EL_TRY(el_k_qout(ctx, node, 0, &so, &zo));
            el_quantize_multiplier((double)s1 / ((double)s2 * (double)so), &d->p.output_multiplier,
                                   &sh);
            d->p.output_shift = sh;
            d->p.input1_offset = -z1;
            d->p.input2_offset = -z2;
            d->p.output_offset = zo;
            return el_k_act_range(ctx, node, act, EL_INT8, so, zo, &d->p.act_min, &d->p.act_max);
        }
        break;
    case EL_INT16:
        if (!EL_KEEP_S16) {
            break;
        }
        if (code == EL_OP_ADD || code == EL_OP_SUB) {
            return quant_add_sub(ctx, node, d, act);
        }
        if (WITH_MUL && code == EL_OP_MUL) {
            return quant_mul(ctx, node, d, act);
        }
        if (WITH_MAXMIN && (code == EL_OP_MAXIMUM || code == EL_OP_MINIMUM)) {
            return maxmin_quant_check(ctx, node);
        }
        if (WITH_SQDIFF && code == EL_OP_SQUARED_DIFFERENCE) {
            return quant_sqdiff(ctx, node, d);
        }
        break;
    default:
        break;
    }
    return EL_UNSUP(ctx, node, "type %s is not supported by this op", el_dtype_name(a->type));
}

#if EL_HOSTED_CPU
/* Elements per repeat of `part` inside `full` (== the output's shape `so`): `part` equal to
 * `so` in its trailing dims and 1 in the others, e.g. one value per channel, [1, 1, 1, C]
 * against [1, H, W, C]; 0 when `full` is not the output's shape or `part` broadcasts inside
 * those trailing dims. */
static int64_t bcast_period(const el_shape *so, const el_shape *full, const el_shape *part)
{
    int32_t k = so->rank, r;
    int64_t period = 1;
    if (full->rank != so->rank || part->rank != so->rank) {
        return 0;
    }
    for (r = 0; r < so->rank; r++) {
        if (full->d[r] != so->d[r]) {
            return 0;
        }
    }
    while (k > 0 && part->d[k - 1] == so->d[k - 1]) {
        period *= so->d[--k];
    }
    for (r = 0; r < k; r++) {
        if (part->d[r] != 1) {
            return 0;
        }
    }
    return period;
}

/* Task i's rows [*r0, *r0 + s->d[0]) of `period` elements as a 2-D shape s, and rep, one such
 * row (the repeating operand's); 0 when the task is empty. */
static int period_rows(const el_guided *g, int32_t i, int32_t period, el_shape *s, el_shape *rep,
                       int32_t *r0)
{
    int32_t r1;
    el_guided_range(g, i, r0, &r1);
    if (r1 <= *r0)
        return 0;
    memset(s, 0, sizeof *s);
    s->rank = 2;
    s->d[0] = r1 - *r0;
    s->d[1] = period;
    *rep = *s;
    rep->d[0] = 1;
    return 1;
}
#endif

/* Threads: float32 ops and int8 ADD / SUB / MUL on inputs of one shape split into contiguous
 * runs of whole 64-element vectors, each computed as a 1-D op: every element's arithmetic is
 * the same as in one call, so the bytes never depend on the split. On hosted CPUs the runs are
 * a guided split (el_guided_range) of up to EL_BINARY_FINE_TASKS per thread, so a thread that
 * starts late or runs slower hands its last runs to the other; there an operand repeating
 * along the other (bcast_period: a value per channel) splits the same way by rows of its
 * period, each a 2-D op of (rows, period) against (1, period). */
typedef struct {
    el_context *ctx;
    const binary_data *d;
    const el_tensor *a, *b;
    el_tensor *out;
    int32_t n, per_task;
    el_guided g; /* hosted CPUs: task i is el_guided_range(&g, i) */
#if EL_HOSTED_CPU
    /* one operand repeating along the other (bcast_period): rows of `period` elements;
     * b_repeats: the repeating operand is b (else a) */
    int32_t period, b_repeats;
#endif
} binary_job;

/* One elementwise op over the given shapes, each operand from the given element (what
 * binary_task runs per part). */
static void binary_run(const binary_job *j, const el_shape *sa, int32_t a0, const el_shape *sb,
                       int32_t b0, const el_shape *so, int32_t o0)
{
    const binary_data *d = j->d;
    if (d->type == EL_FLOAT32) {
        if (EL_KEEP_F32) {
            el_binary_f32((el_binary_op)d->op, &d->p, sa, EL_F32(j->a) + a0, sb, EL_F32(j->b) + b0,
                          so, EL_F32(j->out) + o0);
        }
    } else if (WITH_MUL && d->op == EL_BIN_MUL) {
        el_mul_s8(&d->p, sa, EL_S8(j->a) + a0, sb, EL_S8(j->b) + b0, so, EL_S8(j->out) + o0);
    } else if (!el_opt_add_s8(el_ctx_isa(j->ctx), d->op == EL_BIN_SUB, &d->p, sa, EL_S8(j->a) + a0,
                              sb, EL_S8(j->b) + b0, so, EL_S8(j->out) + o0)) {
        if (d->op == EL_BIN_ADD) {
            el_add_s8(&d->p, sa, EL_S8(j->a) + a0, sb, EL_S8(j->b) + b0, so, EL_S8(j->out) + o0);
        } else {
            el_sub_s8(&d->p, sa, EL_S8(j->a) + a0, sb, EL_S8(j->b) + b0, so, EL_S8(j->out) + o0);
        }
    }
}

#if EL_HOSTED_CPU
/* Rows [r0, r1) of j->period elements, the repeating operand's one row against them. */
static void binary_period_task(const binary_job *j, int32_t i)
{
    el_shape s, rep;
    int32_t r0;
    if (!period_rows(&j->g, i, j->period, &s, &rep, &r0))
        return;
    if (j->b_repeats)
        binary_run(j, &s, r0 * j->period, &rep, 0, &s, r0 * j->period);
    else
        binary_run(j, &rep, 0, &s, r0 * j->period, &s, r0 * j->period);
}
#endif

static void binary_task(void *arg, int32_t i)
{
    const binary_job *j = (const binary_job *)arg;
    int32_t off;
    el_shape s;
#if EL_HOSTED_CPU
    if (j->period > 0) {
        binary_period_task(j, i);
        return;
    }
#endif
    memset(&s, 0, sizeof s);
    s.rank = 1;
    if (EL_HOSTED_CPU) {
        int32_t b;
        el_guided_range(&j->g, i, &off, &b);
        s.d[0] = b - off;
    } else {
        off = i * j->per_task;
        s.d[0] = off + j->per_task < j->n ? j->per_task : j->n - off;
    }
    if (s.d[0] <= 0)
        return;
    binary_run(j, &s, off, &s, off, &s, off);
}

/* Below this many elements an op runs as one call: the hand-off would cost more. */
#define EL_BINARY_SPLIT_MIN 4096
#define EL_BINARY_FINE_TASKS 8

/* 1 when the op was split and ran (see binary_task), 0 to run it as one call. */
static int binary_split(el_context *ctx, const binary_data *d, const el_tensor *a,
                        const el_tensor *b, el_tensor *out)
{
    const int32_t threads = el_ctx_threads(ctx);
    binary_job j;
    int32_t r;
    if (threads <= 1 || !(d->type == EL_FLOAT32 ||
                          (d->type == EL_INT8 &&
                           (d->op == EL_BIN_ADD || d->op == EL_BIN_SUB || d->op == EL_BIN_MUL)))) {
        return 0;
    }
    j.n = el_tensor_elements(out);
    if (j.n < EL_BINARY_SPLIT_MIN || d->s1.rank != d->so.rank || d->s2.rank != d->so.rank)
        return 0;
    j.ctx = ctx;
    j.d = d;
    j.a = a;
    j.b = b;
    j.out = out;
    for (r = 0; r < d->so.rank; r++) {
        if (d->s1.d[r] != d->so.d[r] || d->s2.d[r] != d->so.d[r])
            break;
    }
#if EL_HOSTED_CPU
    j.period = 0;
    if (r < d->so.rank) {
        /* broadcast: one operand repeating along the other (a value per channel: MediaPipe's
         * squeeze-and-excitation MULs) splits by rows of its period */
        int64_t period = bcast_period(&d->so, &d->s1, &d->s2);
        j.b_repeats = period > 0;
        if (period == 0)
            period = bcast_period(&d->so, &d->s2, &d->s1);
        if (period < 1 || j.n / period < 2)
            return 0;
        j.period = (int32_t)period;
        j.g = el_guided_split((int32_t)(j.n / period), 1, threads, EL_BINARY_FINE_TASKS);
        el_parallel_for(ctx, el_guided_tasks(&j.g), binary_task, &j);
        return 1;
    }
#else
    if (r < d->so.rank)
        return 0; /* broadcast: one call */
#endif
    if (EL_HOSTED_CPU) {
        j.g = el_guided_split(j.n, 64, threads, EL_BINARY_FINE_TASKS);
        el_parallel_for(ctx, el_guided_tasks(&j.g), binary_task, &j);
        return 1;
    }
    j.per_task = (j.n + threads - 1) / threads;
    j.per_task = (j.per_task + 63) & ~63; /* whole vectors per task */
    el_parallel_for(ctx, (j.n + j.per_task - 1) / j.per_task, binary_task, &j);
    return 1;
}

static el_status binary_invoke(el_context *ctx, el_node *node)
{
    el_tensor *a = el_input(ctx, node, 0), *b = el_input(ctx, node, 1);
    el_tensor *out = el_output(ctx, node, 0);
    binary_data v;
    const binary_data *d = binary_view(node, a, b, offsetof(binary_data, pr), &v);
    if (binary_split(ctx, d, a, b, out))
        return EL_OK;
    switch (d->type) {
    case EL_FLOAT32:
        if (EL_KEEP_F32) {
            el_binary_f32((el_binary_op)d->op, &d->p, &d->s1, EL_F32(a), &d->s2, EL_F32(b), &d->so,
                          EL_F32(out));
        }
        break;
    case EL_INT32:
        if (d->op == EL_BIN_FLOOR_DIV || d->op == EL_BIN_FLOOR_MOD) {
            /* a zero divisor is data: an error, as in TFLite */
            const int32_t n = el_tensor_elements(b);
            int32_t i;
            for (i = 0; i < n; ++i) {
                if (EL_S32(b)[i] == 0) {
                    return el_kernel_error(ctx, node, EL_ERROR_INVOKE, "division by zero");
                }
            }
        }
        el_binary_s32((el_binary_op)d->op, &d->p, &d->s1, EL_S32(a), &d->s2, EL_S32(b), &d->so,
                      EL_S32(out));
        break;
    case EL_INT16:
        if (!EL_KEEP_S16) {
            break;
        }
        if (EL_OPT_S16 &&
            (d->op == EL_BIN_ADD || (WITH_SUB && d->op == EL_BIN_SUB) ||
             (WITH_MUL && d->op == EL_BIN_MUL)) &&
            el_opt_binary_s16(el_ctx_isa(ctx),
                              d->op == EL_BIN_ADD ? 0 : (d->op == EL_BIN_SUB ? 1 : 2), &d->p,
                              &d->s1, EL_S16(a), &d->s2, EL_S16(b), &d->so, EL_S16(out))) {
            /* kernels/opt took it: identical bytes */
        } else if (WITH_MUL && d->op == EL_BIN_MUL) {
            el_mul_s16(&d->p, &d->s1, EL_S16(a), &d->s2, EL_S16(b), &d->so, EL_S16(out));
        } else if (WITH_SQDIFF && d->op == EL_BIN_SQUARED_DIFFERENCE) {
            el_squared_difference_s16(&d->p, &d->s1, EL_S16(a), &d->s2, EL_S16(b), &d->so,
                                      EL_S16(out));
        } else if (WITH_MAXMIN && (d->op == EL_BIN_MAXIMUM || d->op == EL_BIN_MINIMUM)) {
            el_maxmin_s16(d->op == EL_BIN_MAXIMUM, &d->s1, EL_S16(a), &d->s2, EL_S16(b), &d->so,
                          EL_S16(out));
        } else if (d->op == EL_BIN_ADD) {
            el_add_s16(&d->p, &d->s1, EL_S16(a), &d->s2, EL_S16(b), &d->so, EL_S16(out));
        } else if (WITH_SUB) {
            el_sub_s16(&d->p, &d->s1, EL_S16(a), &d->s2, EL_S16(b), &d->so, EL_S16(out));
        }
        break;
    default:
        if ((d->op == EL_BIN_ADD || d->op == EL_BIN_SUB) &&
            el_opt_add_s8(el_ctx_isa(ctx), d->op == EL_BIN_SUB, &d->p, &d->s1, EL_S8(a), &d->s2,
                          EL_S8(b), &d->so, EL_S8(out))) {
            /* kernels/opt took it (equal shapes): identical bytes */
        } else if (d->op == EL_BIN_ADD) {
            el_add_s8(&d->p, &d->s1, EL_S8(a), &d->s2, EL_S8(b), &d->so, EL_S8(out));
        } else if (WITH_SUB && d->op == EL_BIN_SUB) {
            el_sub_s8(&d->p, &d->s1, EL_S8(a), &d->s2, EL_S8(b), &d->so, EL_S8(out));
        } else if (WITH_MUL && d->op == EL_BIN_MUL) {
            el_mul_s8(&d->p, &d->s1, EL_S8(a), &d->s2, EL_S8(b), &d->so, EL_S8(out));
        } else if (WITH_DIV && d->op == EL_BIN_DIV) {
            /* a divisor equal to its zero point is a real 0: data, so checked here */
            const int32_t n = el_tensor_elements(b);
            int32_t i;
            for (i = 0; i < n; ++i) {
                if ((int32_t)EL_S8(b)[i] + d->p.input2_offset == 0) {
                    return el_kernel_error(ctx, node, EL_ERROR_INVOKE, "division by zero");
                }
            }
            el_div_s8(&d->p, &d->s1, EL_S8(a), &d->s2, EL_S8(b), &d->so, EL_S8(out));
        } else if (WITH_SQDIFF && d->op == EL_BIN_SQUARED_DIFFERENCE) {
            el_squared_difference_s8(&d->p, &d->s1, EL_S8(a), &d->s2, EL_S8(b), &d->so, EL_S8(out));
        } else if (WITH_MAXMIN) {
            el_maxmin_s8(d->op == EL_BIN_MAXIMUM, &d->s1, EL_S8(a), &d->s2, EL_S8(b), &d->so,
                         EL_S8(out));
        }
        break;
    }
    return EL_OK;
}

static el_status prelu_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *alpha, *out;
    binary_data *d;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_in(ctx, node, 1, &alpha));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (in->type != alpha->type || in->type != out->type ||
        (in->type != EL_FLOAT32 && in->type != EL_INT8)) {
        return EL_UNSUP(ctx, node, "input, alpha and output must all be FLOAT32 or INT8");
    }
    d = (binary_data *)el_alloc_op_data(ctx, node, offsetof(binary_data, s1));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    {
        el_shape s1, s2, so;
        if (!el_k_broadcast(in, alpha, &s1, &s2, &so)) {
            return EL_UNSUP(ctx, node, "alpha does not broadcast against the input");
        }
        EL_TRY(el_k_check_out_shape(ctx, node, out, &so));
    }
    d->type = in->type;
    if (in->type == EL_INT8) {
        float si, sa, so;
        int32_t zi, za, zo;
        int sh;
        EL_TRY(el_k_qin(ctx, node, 0, &si, &zi));
        EL_TRY(el_k_qin(ctx, node, 1, &sa, &za));
        EL_TRY(el_k_qout(ctx, node, 0, &so, &zo));
        el_quantize_multiplier((double)si / (double)so, &d->pr.output_multiplier_1, &sh);
        d->pr.output_shift_1 = sh;
        el_quantize_multiplier((double)si * (double)sa / (double)so, &d->pr.output_multiplier_2,
                               &sh);
        d->pr.output_shift_2 = sh;
        d->pr.input_offset = -zi;
        d->pr.alpha_offset = -za;
        d->pr.output_offset = zo;
    }
    return EL_OK;
}

#if EL_HOSTED_CPU
/* Threads (hosted CPUs): a float32 PRELU of at least EL_BINARY_SPLIT_MIN elements whose input
 * has the output's shape and whose slopes repeat every `period` elements (one per channel:
 * MediaPipe's landmark models have 23) splits into a guided set of runs of whole periods,
 * each a 2-D PRELU of (rows, period): every element computed as in one call. */
typedef struct {
    const float *in, *alpha;
    float *out;
    int32_t period;
    el_guided g;
} prelu_job;

static void prelu_task(void *arg, int32_t i)
{
    const prelu_job *j = (const prelu_job *)arg;
    el_shape s, sa;
    int32_t r0;
    if (!period_rows(&j->g, i, j->period, &s, &sa, &r0)) {
        return;
    }
    el_prelu_f32(&s, j->in + (size_t)r0 * j->period, &sa, j->alpha, &s,
                 j->out + (size_t)r0 * j->period);
}

/* 1 when the PRELU was split and ran, 0 to run it as one call. */
static int prelu_split(el_context *ctx, const binary_data *d, const float *in, const float *alpha,
                       float *out)
{
    prelu_job j;
    int32_t r;
    int64_t n = 1, period;
    if (el_ctx_threads(ctx) <= 1) {
        return 0;
    }
    /* slopes repeating along the input (not broadcast inside the period) */
    period = bcast_period(&d->so, &d->s1, &d->s2);
    for (r = 0; r < d->so.rank; r++) {
        n *= d->so.d[r];
    }
    if (n < EL_BINARY_SPLIT_MIN || period < 1 || n / period < 2) {
        return 0;
    }
    j.in = in;
    j.alpha = alpha;
    j.out = out;
    j.period = (int32_t)period;
    j.g = el_guided_split((int32_t)(n / period), 1, el_ctx_threads(ctx), EL_BINARY_FINE_TASKS);
    el_parallel_for(ctx, el_guided_tasks(&j.g), prelu_task, &j);
    return 1;
}
#endif

static el_status prelu_invoke(el_context *ctx, el_node *node)
{
    el_tensor *in = el_input(ctx, node, 0), *alpha = el_input(ctx, node, 1);
    el_tensor *out = el_output(ctx, node, 0);
    binary_data v;
    const binary_data *d = binary_view(node, in, alpha, offsetof(binary_data, s1), &v);
    if (d->type == EL_FLOAT32) {
#if EL_HOSTED_CPU
        if (prelu_split(ctx, d, EL_F32(in), EL_F32(alpha), EL_F32(out))) {
            return EL_OK;
        }
#endif
        el_prelu_f32(&d->s1, EL_F32(in), &d->s2, EL_F32(alpha), &d->so, EL_F32(out));
    } else {
        el_prelu_s8(&d->pr, &d->s1, EL_S8(in), &d->s2, EL_S8(alpha), &d->so, EL_S8(out));
    }
    return EL_OK;
}

const el_kernel el_kernel_add = {EL_OP_ADD, 0, binary_prepare, binary_invoke};
const el_kernel el_kernel_sub = {EL_OP_SUB, 0, binary_prepare, binary_invoke};
const el_kernel el_kernel_mul = {EL_OP_MUL, 0, binary_prepare, binary_invoke};
const el_kernel el_kernel_div = {EL_OP_DIV, 0, binary_prepare, binary_invoke};
const el_kernel el_kernel_pow = {EL_OP_POW, 0, binary_prepare, binary_invoke};
const el_kernel el_kernel_maximum = {EL_OP_MAXIMUM, 0, binary_prepare, binary_invoke};
const el_kernel el_kernel_minimum = {EL_OP_MINIMUM, 0, binary_prepare, binary_invoke};
const el_kernel el_kernel_squared_difference = {EL_OP_SQUARED_DIFFERENCE, 0, binary_prepare,
                                                binary_invoke};
const el_kernel el_kernel_floor_div = {EL_OP_FLOOR_DIV, 0, binary_prepare, binary_invoke};
const el_kernel el_kernel_floor_mod = {EL_OP_FLOOR_MOD, 0, binary_prepare, binary_invoke};
const el_kernel el_kernel_atan2 = {EL_OP_ATAN2, 0, binary_prepare, binary_invoke};
const el_kernel el_kernel_prelu = {EL_OP_PRELU, 0, prelu_prepare, prelu_invoke};
