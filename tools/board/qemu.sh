#!/bin/sh
# Runs an aarch64 Linux binary under qemu-user: tools/board/qemu.sh CPU BINARY [ARGS...]
# (CPU: cortex-a53 for Pi Zero 2 W / Pi 3, cortex-a72 for Pi 4, cortex-a76 for Pi 5).
# The dynamic loader and libc both come from the cross glibc (libc6-arm64-cross): with only -L,
# the loader is the cross one but ld.so.cache can hand it the multiarch libc6:arm64 (installed
# beside it by the arm64 -dev packages), a different build, and threads then hang at start.
cpu=$1; shift
PREFIX=${QEMU_LD_PREFIX:-/usr/aarch64-linux-gnu}
exec qemu-aarch64 -L "$PREFIX" -E LD_LIBRARY_PATH="$PREFIX/lib" -cpu "$cpu" "$@"
