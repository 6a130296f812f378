# Cross build for aarch64-linux-gnu with Debian's cross compiler (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross):
#   cmake -S runtime_micro -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=runtime_micro/cmake/toolchains/aarch64-linux-gnu.cmake
# With -DEDGELITE_TESTS=ON, ctest runs the C tests under qemu-aarch64 (qemu-user) when it is installed.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
find_program(EL_QEMU qemu-aarch64)
if(EL_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${EL_QEMU};-L;/usr/aarch64-linux-gnu")
endif()
