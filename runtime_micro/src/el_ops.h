/* TFLite BuiltinOperator codes (values fixed by the TFLite schema; a format fact), from the op
 * table (el_op_table.h). Codes past the table are reported by number. */
#ifndef EL_OPS_H
#define EL_OPS_H

#include <stdint.h>

#include "el_op_table.h"

#define EL_OP_ENUM_KOPT(NAME, code, kernel, type, st, fields) EL_OP_##NAME = code,
#define EL_OP_ENUM_KOP(NAME, code, kernel) EL_OP_##NAME = code,
#define EL_OP_ENUM_OPT(NAME, code, type, st, fields) EL_OP_##NAME = code,
#define EL_OP_ENUM_OP(NAME, code) EL_OP_##NAME = code,
enum {
    EL_OP_TABLE(EL_OP_ENUM_KOPT, EL_OP_ENUM_KOP, EL_OP_ENUM_OPT, EL_OP_ENUM_OP)
        EL_OP_NAMED_COUNT /* one past the highest code (the table has no gaps) */
};
#undef EL_OP_ENUM_KOPT
#undef EL_OP_ENUM_KOP
#undef EL_OP_ENUM_OPT
#undef EL_OP_ENUM_OP

/* "CONV_2D" etc.; "UNKNOWN" for codes outside the table. Never NULL. */
const char *el_op_name(int32_t builtin_code);

#endif /* EL_OPS_H */
