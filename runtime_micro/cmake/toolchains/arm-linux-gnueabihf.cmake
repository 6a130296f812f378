# Cross build for arm-linux-gnueabihf with Debian's cross compiler (gcc-arm-linux-gnueabihf, libc6-dev-armhf-cross):
#   cmake -S runtime_micro -B build-arm -DCMAKE_TOOLCHAIN_FILE=runtime_micro/cmake/toolchains/arm-linux-gnueabihf.cmake
# With -DEDGELITE_TESTS=ON, ctest runs the C tests under qemu-arm (qemu-user) when it is installed.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
find_program(EL_QEMU qemu-arm)
if(EL_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${EL_QEMU};-L;/usr/arm-linux-gnueabihf")
endif()
