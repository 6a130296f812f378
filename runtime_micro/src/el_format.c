/* A small printf subset for error messages: keeps stdio (and its size on Cortex-M) out of the
 * library. Supported: %d %i %u %x %ld %li %lu %lx %zu %s %c %%. */
#include "el_internal.h"

typedef struct {
    char *dst;
    size_t cap, len;
} el_out;

static void put(el_out *o, char c)
{
    if (o->len + 1 < o->cap)
        o->dst[o->len++] = c;
}

static void put_str(el_out *o, const char *s)
{
    if (s == NULL)
        s = "(null)";
    while (*s)
        put(o, *s++);
}

static void put_unsigned(el_out *o, unsigned long v, unsigned base)
{
    char tmp[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v != 0 && n < (int)sizeof(tmp));
    while (n > 0)
        put(o, tmp[--n]);
}

static void put_signed(el_out *o, long v)
{
    if (v < 0) {
        put(o, '-');
        /* -(v + 1) + 1 avoids overflow for LONG_MIN */
        put_unsigned(o, (unsigned long)(-(v + 1)) + 1u, 10);
    } else {
        put_unsigned(o, (unsigned long)v, 10);
    }
}

void el_vformat(char *dst, size_t cap, const char *fmt, va_list ap)
{
    el_out o;
    if (cap == 0)
        return;
    o.dst = dst;
    o.cap = cap;
    o.len = 0;
    while (*fmt) {
        char c = *fmt++;
        int is_long = 0, is_size = 0;
        if (c != '%') {
            put(&o, c);
            continue;
        }
        if (*fmt == 'l') {
            is_long = 1;
            ++fmt;
        } else if (*fmt == 'z') {
            is_size = 1;
            ++fmt;
        }
        c = *fmt;
        if (c == '\0')
            break;
        ++fmt;
        switch (c) {
        case 'd':
        case 'i':
            put_signed(&o, is_long ? va_arg(ap, long) : (long)va_arg(ap, int));
            break;
        case 'u':
        case 'x':
            if (is_size)
                put_unsigned(&o, (unsigned long)va_arg(ap, size_t), c == 'x' ? 16u : 10u);
            else if (is_long)
                put_unsigned(&o, va_arg(ap, unsigned long), c == 'x' ? 16u : 10u);
            else
                put_unsigned(&o, (unsigned long)va_arg(ap, unsigned), c == 'x' ? 16u : 10u);
            break;
        case 's':
            put_str(&o, va_arg(ap, const char *));
            break;
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case '%':
            put(&o, '%');
            break;
        default:
            put(&o, '%');
            put(&o, c);
            break;
        }
    }
    o.dst[o.len] = '\0';
}

void el_format(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    el_vformat(dst, cap, fmt, ap);
    va_end(ap);
}
