/* Reference QUANTIZE / DEQUANTIZE / requantize (TFLite AffineQuantize, Requantize,
 * Dequantize: float division then round half away from zero; dequantize in double). */
#include <math.h>

#include "../el_nn.h"
#include "../el_quant.h"

#define EL_QUANTIZE_BODY(QMIN, QMAX, T)                                                            \
    int32_t i;                                                                                     \
    for (i = 0; i < size; ++i) {                                                                   \
        const float r = roundf(in[i] / scale);                                                     \
        /* Values beyond int32 saturate before the cast, where TFLite's cast is undefined;     \
         * NaN maps to the zero point. */   \
        const int64_t q = r >= 2147483520.0f    ? (int64_t)INT32_MAX                               \
                          : r <= -2147483648.0f ? (int64_t)INT32_MIN                               \
                          : r == r              ? (int64_t)(int32_t)r                              \
                                                : 0;                                               \
        const int64_t v = q + zp;                                                                  \
        out[i] = (T)(v < (QMIN) ? (QMIN) : (v > (QMAX) ? (QMAX) : v));                             \
    }

void el_quantize_f32_s8(float scale, int32_t zp, int32_t size, const float *in, int8_t *out)
{
    EL_QUANTIZE_BODY(-128, 127, int8_t)
}

void el_quantize_f32_u8(float scale, int32_t zp, int32_t size, const float *in, uint8_t *out)
{
    EL_QUANTIZE_BODY(0, 255, uint8_t)
}

void el_quantize_f32_s16(float scale, int32_t zp, int32_t size, const float *in,
                         int16_t *out){EL_QUANTIZE_BODY(-32768, 32767, int16_t)}

#define EL_REQUANT_BODY(T)                                                                         \
    int32_t i;                                                                                     \
    for (i = 0; i < size; ++i) {                                                                   \
        const int32_t v =                                                                          \
            el_requant((int32_t)in[i] - p->input_zero_point, p->multiplier, p->shift) +            \
            p->output_zero_point;                                                                  \
        out[i] = (T)el_clamp_i32(v, p->qmin, p->qmax);                                             \
    }

void el_requantize_s8_s8(const el_requant_params *p, int32_t size, const int8_t *in, int8_t *out)
{
    EL_REQUANT_BODY(int8_t)
}
void el_requantize_s8_u8(const el_requant_params *p, int32_t size, const int8_t *in, uint8_t *out)
{
    EL_REQUANT_BODY(uint8_t)
}
void el_requantize_u8_s8(const el_requant_params *p, int32_t size, const uint8_t *in, int8_t *out)
{
    EL_REQUANT_BODY(int8_t)
}
void el_requantize_s8_s16(const el_requant_params *p, int32_t size, const int8_t *in, int16_t *out)
{
    EL_REQUANT_BODY(int16_t)
}
void el_requantize_s16_s8(const el_requant_params *p, int32_t size, const int16_t *in, int8_t *out)
{
    EL_REQUANT_BODY(int8_t)
}
void el_requantize_s16_s16(const el_requant_params *p, int32_t size, const int16_t *in,
                           int16_t *out){EL_REQUANT_BODY(int16_t)}

#define EL_DEQUANT_BODY                                                                            \
    int32_t i;                                                                                     \
    for (i = 0; i < size; ++i) {                                                                   \
        out[i] = (float)((double)scale * (double)((int32_t)in[i] - zp));                           \
    }

void el_dequantize_s8_f32(float scale, int32_t zp, int32_t size, const int8_t *in, float *out)
{
    EL_DEQUANT_BODY
}
void el_dequantize_u8_f32(float scale, int32_t zp, int32_t size, const uint8_t *in, float *out)
{
    EL_DEQUANT_BODY
}
void el_dequantize_s16_f32(float scale, int32_t zp, int32_t size, const int16_t *in, float *out)
{
    EL_DEQUANT_BODY
}

float el_f16_to_f32(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const int32_t exp = (h >> 10) & 0x1f;
    const uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    float f;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13); /* inf / nan */
    } else if (exp != 0) {
        bits = sign | ((uint32_t)(exp - 15 + 127) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else {
        /* subnormal half: value = mant * 2^-24, exact in float */
        f = (float)mant * (1.0f / 16777216.0f);
        return sign ? -f : f;
    }
    {
        union {
            uint32_t u;
            float f;
        } cv;
        cv.u = bits;
        return cv.f;
    }
}

void el_dequantize_f16_f32(int32_t size, const uint16_t *in, float *out)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        out[i] = el_f16_to_f32(in[i]);
    }
}
