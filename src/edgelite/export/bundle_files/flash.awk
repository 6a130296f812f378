# Sum the input sections the linker kept from libedgelite_micro.a in a GNU ld map file (-Map):
# code + read-only data = the runtime's flash. Long section names sit alone on their line with
# the address, size and file on the next. Portable awk (no gawk strtonum).
function hex(s,    i, c, v) {
  s = tolower(s); sub(/^0x/, "", s); v = 0
  for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
  return v
}
/^Linker script and memory map/ { inmap = 1; next }
!inmap || !/^ / || /^ \*/ { next }
NF == 1 && $1 ~ /^\./ { pending = $1; next }
{
  sec = pending; pending = ""
  if (NF == 4 && $2 ~ /^0x/ && $3 ~ /^0x/) { sec = $1; size = $3; file = $4 }
  else if (NF == 3 && $1 ~ /^0x/ && $2 ~ /^0x/) { size = $2; file = $3 }
  else next
  if (file !~ /libedgelite_micro\.a\(/) next
  if (sec ~ /^\.(text|rodata|data\.rel\.ro)/) code += hex(size)
  else if (sec ~ /^\.(data|bss)/) ram += hex(size)
}
END {
  printf "flash %d B = runtime code %d B (%s) + model %d B   [%s]\n", code + model, code, ops, model, target
  if (ram) printf "runtime static data %d B\n", ram
}
