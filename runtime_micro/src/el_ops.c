/* Names of TFLite builtin operators (indexed by code) and tensor types, for error messages. */
#include "el_kernel.h"

#define EL_OP_NAME_KOPT(NAME, code, kernel, type, st, fields) #NAME,
#define EL_OP_NAME_KOP(NAME, code, kernel) #NAME,
#define EL_OP_NAME_OPT(NAME, code, type, st, fields) #NAME,
#define EL_OP_NAME_OP(NAME, code) #NAME,
/* in code order: the table lists every code from 0 without gaps */
static const char *const k_names[EL_OP_NAMED_COUNT] = {
    EL_OP_TABLE(EL_OP_NAME_KOPT, EL_OP_NAME_KOP, EL_OP_NAME_OPT, EL_OP_NAME_OP)};

const char *el_op_name(int32_t builtin_code)
{
    if (builtin_code < 0 || builtin_code >= EL_OP_NAMED_COUNT)
        return "UNKNOWN";
    return k_names[builtin_code];
}

const char *el_dtype_name(int32_t dtype)
{
    static const char *const names[] = {
        "FLOAT32",  "FLOAT16",  "INT32",     "UINT8",         "INT64",      "STRING",
        "BOOL",     "INT16",    "COMPLEX64", "INT8",          "FLOAT64",    "COMPLEX128",
        "UINT64",   "RESOURCE", "VARIANT",   "UINT32",        "UINT16",     "INT4",
        "BFLOAT16", "INT2",     "UINT4",     "FLOAT8_E4M3FN", "FLOAT8_E5M2"};
    if (dtype < 0 || dtype >= (int32_t)(sizeof(names) / sizeof(names[0])))
        return "UNKNOWN";
    return names[dtype];
}
