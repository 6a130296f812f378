/* Bounds-checked flatbuffer access (our own reader of the flatbuffers binary format).
 *
 * Format facts used: little-endian; the buffer starts with a uoffset (u32) to the root table;
 * a table starts with an soffset (i32) that, subtracted from the table position, gives its
 * vtable; a vtable is u16 vtable size, u16 table size, then one u16 field offset per slot
 * (0 = absent); offset fields (tables, vectors, strings) hold a u32 relative to their own
 * position; a vector is a u32 element count followed by the elements; a string is a byte
 * vector followed by a NUL. Nothing here trusts any of those numbers. */
#include "el_internal.h"

el_status el_fb_fail(el_fb *fb, el_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    el_vformat(fb->msg, EL_MESSAGE_SIZE, fmt, ap);
    va_end(ap);
    return st;
}

static uint16_t rd_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static el_status table_at(el_fb *fb, size_t pos, el_table *t, const char *what)
{
    int32_t soff;
    int64_t vt;
    if (pos > fb->size || fb->size - pos < 4)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                          "%s: table offset %lu out of range (model is %lu bytes)", what,
                          (unsigned long)pos, (unsigned long)fb->size);
    if (pos % 4 != 0)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: table offset %lu is not 4-byte aligned",
                          what, (unsigned long)pos);
    soff = el_rd_i32(fb->buf + pos);
    vt = (int64_t)pos - (int64_t)soff;
    if (vt < 0 || vt % 2 != 0 || (uint64_t)vt > fb->size || fb->size - (size_t)vt < 4)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: vtable offset out of range", what);
    t->pos = pos;
    t->vt = (size_t)vt;
    t->vt_size = rd_u16(fb->buf + t->vt);
    t->size = rd_u16(fb->buf + t->vt + 2);
    if (t->vt_size < 4 || t->vt_size % 2 != 0 || fb->size - t->vt < t->vt_size)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: vtable size %u invalid", what,
                          (unsigned)t->vt_size);
    if (t->size < 4 || fb->size - pos < t->size)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: table size %u exceeds the model", what,
                          (unsigned)t->size);
    return EL_OK;
}

el_status el_fb_root(el_fb *fb, el_table *root)
{
    if (fb->size < 8)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                          "model is %lu bytes: too short for a TFLite flatbuffer",
                          (unsigned long)fb->size);
    if (memcmp(fb->buf + 4, "TFL3", 4) != 0)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                          "not a TFLite model: file identifier is not 'TFL3' (bytes 4..7)");
    return table_at(fb, el_rd_u32(fb->buf), root, "model root");
}

/* Position of a field of `width` bytes; 0 when absent. */
static el_status field(el_fb *fb, const el_table *t, int slot, size_t width, size_t *pos,
                       const char *what)
{
    size_t e = 4 + 2 * (size_t)slot;
    uint16_t off;
    *pos = 0;
    if (e + 2 > t->vt_size)
        return EL_OK;
    off = rd_u16(fb->buf + t->vt + e);
    if (off == 0)
        return EL_OK;
    if ((size_t)off + width > t->size)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: field %d lies outside its table", what,
                          slot);
    *pos = t->pos + off;
    return EL_OK;
}

el_status el_fb_u8(el_fb *fb, const el_table *t, int slot, uint8_t def, uint8_t *out,
                   const char *what)
{
    size_t p;
    el_status st = field(fb, t, slot, 1, &p, what);
    *out = p ? fb->buf[p] : def;
    return st;
}

el_status el_fb_u32(el_fb *fb, const el_table *t, int slot, uint32_t def, uint32_t *out,
                    const char *what)
{
    size_t p;
    el_status st = field(fb, t, slot, 4, &p, what);
    *out = p ? el_rd_u32(fb->buf + p) : def;
    return st;
}

el_status el_fb_i32(el_fb *fb, const el_table *t, int slot, int32_t def, int32_t *out,
                    const char *what)
{
    size_t p;
    el_status st = field(fb, t, slot, 4, &p, what);
    *out = p ? el_rd_i32(fb->buf + p) : def;
    return st;
}

el_status el_fb_u64(el_fb *fb, const el_table *t, int slot, uint64_t def, uint64_t *out,
                    const char *what)
{
    size_t p;
    el_status st = field(fb, t, slot, 8, &p, what);
    *out =
        p ? ((uint64_t)el_rd_u32(fb->buf + p) | ((uint64_t)el_rd_u32(fb->buf + p + 4) << 32)) : def;
    return st;
}

el_status el_fb_f32(el_fb *fb, const el_table *t, int slot, float def, float *out, const char *what)
{
    size_t p;
    el_status st = field(fb, t, slot, 4, &p, what);
    if (p) {
        uint32_t u = el_rd_u32(fb->buf + p);
        memcpy(out, &u, 4);
    } else {
        *out = def;
    }
    return st;
}

/* Follows the uoffset stored at pos. */
static el_status follow(el_fb *fb, size_t pos, size_t *target, const char *what)
{
    uint32_t off = el_rd_u32(fb->buf + pos);
    if (off == 0 || (uint64_t)pos + off > fb->size)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: offset %lu out of range", what,
                          (unsigned long)off);
    *target = pos + off;
    return EL_OK;
}

el_status el_fb_table(el_fb *fb, const el_table *t, int slot, el_table *out, int *present,
                      const char *what)
{
    size_t p, target;
    el_status st = field(fb, t, slot, 4, &p, what);
    *present = 0;
    if (st != EL_OK || p == 0)
        return st;
    st = follow(fb, p, &target, what);
    if (st != EL_OK)
        return st;
    *present = 1;
    return table_at(fb, target, out, what);
}

static el_status vec_at(el_fb *fb, size_t pos, size_t elem_size, size_t align, el_vec *out,
                        const char *what)
{
    uint32_t n;
    if (fb->size - pos < 4)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: vector offset out of range", what);
    if (pos % 4 != 0)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: vector offset %lu is not 4-byte aligned",
                          what, (unsigned long)pos);
    n = el_rd_u32(fb->buf + pos);
    if ((uint64_t)n * elem_size > (uint64_t)(fb->size - pos - 4))
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                          "%s: vector of %lu elements exceeds the model", what, (unsigned long)n);
    out->pos = pos + 4;
    out->count = n;
    if (n > 0 && align > 1 && ((uintptr_t)(fb->buf + out->pos)) % align != 0)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: vector data not aligned to %lu bytes",
                          what, (unsigned long)align);
    return EL_OK;
}

el_status el_fb_vec(el_fb *fb, const el_table *t, int slot, size_t elem_size, size_t align,
                    el_vec *out, const char *what)
{
    size_t p, target;
    el_status st = field(fb, t, slot, 4, &p, what);
    out->pos = 0;
    out->count = 0;
    if (st != EL_OK || p == 0)
        return st;
    st = follow(fb, p, &target, what);
    if (st != EL_OK)
        return st;
    return vec_at(fb, target, elem_size, align, out, what);
}

el_status el_fb_vec_table(el_fb *fb, const el_vec *v, uint32_t i, el_table *out, const char *what)
{
    size_t target;
    el_status st;
    if (i >= v->count)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: index %lu out of range", what,
                          (unsigned long)i);
    st = follow(fb, v->pos + 4 * (size_t)i, &target, what);
    if (st != EL_OK)
        return st;
    return table_at(fb, target, out, what);
}

el_status el_fb_string(el_fb *fb, const el_table *t, int slot, const char **out, const char *what)
{
    size_t p, target;
    el_vec v;
    el_status st = field(fb, t, slot, 4, &p, what);
    *out = "";
    if (st != EL_OK || p == 0)
        return st;
    st = follow(fb, p, &target, what);
    if (st != EL_OK)
        return st;
    st = vec_at(fb, target, 1, 1, &v, what);
    if (st != EL_OK)
        return st;
    if (fb->size - v.pos < (size_t)v.count + 1 || fb->buf[v.pos + v.count] != 0)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: string is not NUL-terminated", what);
    *out = (const char *)(fb->buf + v.pos);
    return EL_OK;
}
