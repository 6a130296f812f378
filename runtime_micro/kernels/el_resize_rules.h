/* TFLite's RESIZE_BILINEAR float coordinate rules, shared by the reference kernel
 * (reference/resize.c) and the vector one (opt/pool_resize_f32.c), which must agree to the
 * bit: the scale of an axis, and an output index's source coordinate and its two neighbours. */
#ifndef EL_RESIZE_RULES_H
#define EL_RESIZE_RULES_H

#include <math.h>
#include <stdint.h>

/* clang would fuse (v + 0.5f) * scale - 0.5f into one rounding (GCC in C99 mode does not) */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

static inline float el_resize_scale(int align_corners, int32_t in_size, int32_t out_size)
{
    return (align_corners && out_size > 1) ? (float)(in_size - 1) / (float)(out_size - 1)
                                           : (float)in_size / (float)out_size;
}

static inline void el_resize_interp(float v, float scale, int half_pixel, int32_t in_size,
                                    float *scaled, int32_t *lo, int32_t *hi)
{
    float fl;
    *scaled = half_pixel ? (v + 0.5f) * scale - 0.5f : v * scale;
    fl = floorf(*scaled);
    *lo = (int32_t)fl > 0 ? (int32_t)fl : 0;
    *hi = (int32_t)ceilf(*scaled) < in_size - 1 ? (int32_t)ceilf(*scaled) : in_size - 1;
}

#endif
