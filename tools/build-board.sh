#!/bin/sh
# Builds the board binary gan-gen as Embedded Swift, from the same sources as the SwiftPM build:
#   tools/build-board.sh                 aarch64 Linux (Raspberry Pi 3/4/5, Pi Zero 2 W), cross-built here
#   tools/build-board.sh --arch x86_64   x86_64 Linux, to measure the Embedded build's footprint natively
# Output: .build-board/<arch>/gan-gen (stripped; also gan-gen.unstripped). The binary needs only
# glibc on the board: the Swift runtime is the Embedded one compiled in, libpng and zlib are linked
# statically. Copy the one file to the board and run it.
#
# Swift: each module (GanKernels, GanModel, GanImage, GanRuntime, gan-gen) compiled with
# -enable-experimental-feature Embedded -wmo -Osize for aarch64-none-none-elf (x86_64-unknown-
# linux-gnu) against the cross glibc headers; C (kernels, image and system shims): the target's gcc;
# link: the target's gcc against glibc. Installs what it needs (cross gcc, arm64 -dev packages).
set -e
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ARCH=aarch64
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) ARCH=$2; shift 2 ;;
    --arch=*) ARCH=${1#--arch=}; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-board.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
  esac
done

SWIFTC=${SWIFTC:-$(command -v swiftc)}
TOOLCHAIN=$(dirname "$(dirname "$(readlink -f "$SWIFTC")")")
EMBEDDED=$TOOLCHAIN/lib/swift/embedded
case "$ARCH" in
  aarch64)
    tools/install-deps.sh gcc-aarch64-linux-gnu libc6-dev-arm64-cross libpng-dev:arm64 zlib1g-dev:arm64 \
      libjpeg62-turbo-dev:arm64 >&2
    TARGET=aarch64-none-none-elf
    CC=aarch64-linux-gnu-gcc
    MULTIARCH=aarch64-linux-gnu
    # clang (inside swiftc) parses the C headers for the bare-metal triple: give it the cross glibc
    # headers, the arm64 multiarch folder, and the macros a Linux target defines.
    CLANG_FLAGS="-isystem /usr/aarch64-linux-gnu/include -isystem /usr/include/aarch64-linux-gnu -isystem /usr/include
      -D__linux__ -D__linux -D__gnu_linux__ -D__unix__ -D__unix"
    ;;
  x86_64)
    tools/install-deps.sh libpng-dev zlib1g-dev >&2
    TARGET=x86_64-unknown-linux-gnu
    CC=gcc
    MULTIARCH=x86_64-linux-gnu
    CLANG_FLAGS=""
    ;;
  *) echo "build-board.sh: --arch must be aarch64 or x86_64, not '$ARCH'" >&2; exit 64 ;;
esac
UNICODE_TABLES=$EMBEDDED/$TARGET/libswiftUnicodeDataTables.a
[ -f "$UNICODE_TABLES" ] || { echo "build-board.sh: $UNICODE_TABLES missing: this Swift toolchain has no Embedded Swift for $TARGET" >&2; exit 1; }

OUT=$ROOT/.build-board/$ARCH
rm -rf "$OUT"
mkdir -p "$OUT/obj" "$OUT/modules"

# C: the kernels (every ISA file; each guards itself by target), the image shim, the system shim,
# and the few runtime hooks Embedded Swift expects from its platform.
CFLAGS="-O3 -ffp-contract=off -Wall -Wno-unknown-pragmas -ffunction-sections -fdata-sections -pthread"
n=0
for f in $(find Kernels -name '*.c' | sort) Sources/CGanImageIO/imageio.c Sources/CGanSystem/gan_system.c tools/board/embedded_support.c; do
  n=$((n + 1))
  $CC $CFLAGS -I Kernels/include -I Sources/CGanImageIO/include -I Sources/CGanSystem/include -c "$f" -o "$OUT/obj/c$n-$(basename "$f" .c).o"
done

# Module maps for the C modules Swift imports.
cat > "$OUT/modules/module.modulemap" <<EOF
module CGanKernels { header "$ROOT/Kernels/include/gan_kernels.h" export * }
module CGanSystem { header "$ROOT/Sources/CGanSystem/include/gan_system.h" export * }
module CGanImageIO { header "$ROOT/Sources/CGanImageIO/include/gan_imageio.h" export * }
EOF
XCC=""
for f in $CLANG_FLAGS; do XCC="$XCC -Xcc $f"; done

# Swift modules in dependency order. GanKernels takes only the files the runtime uses (the
# training passes in Elementwise.swift stay in the SwiftPM build).
swift_module() {
  name=$1; shift
  kind=$1; shift
  lib="-parse-as-library -emit-module -emit-module-path $OUT/modules/$name.swiftmodule"
  [ "$kind" = exe ] && lib=""
  # shellcheck disable=SC2086
  "$SWIFTC" -target $TARGET -enable-experimental-feature Embedded -wmo -Osize -module-name "$name" \
    $lib -I "$OUT/modules" $XCC -Xcc -ffunction-sections -Xcc -fdata-sections -Xfrontend -function-sections \
    -c "$@" -o "$OUT/obj/swift-$name.o"
}
swift_module GanKernels lib Sources/GanKernels/Arena.swift Sources/GanKernels/Kernels.swift \
  Sources/GanKernels/Int8.swift Sources/GanKernels/Layers.swift Sources/GanKernels/AlgorithmPolicy.swift \
  Sources/GanKernels/Attention.swift
swift_module GanModel lib Sources/GanModel/*.swift
swift_module GanImage lib Sources/GanImage/*.swift
swift_module GanRuntime lib Sources/GanRuntime/*.swift
swift_module gan_gen exe Sources/gan-gen/*.swift

# Link against glibc; libpng and zlib statically so the board needs nothing else.
LIBDIR=/usr/lib/$MULTIARCH
$CC -o "$OUT/gan-gen.unstripped" "$OUT"/obj/*.o "$UNICODE_TABLES" \
  "$LIBDIR/libpng16.a" "$LIBDIR/libz.a" -lm -pthread -Wl,--gc-sections
cp "$OUT/gan-gen.unstripped" "$OUT/gan-gen"
case "$ARCH" in aarch64) aarch64-linux-gnu-strip "$OUT/gan-gen" ;; *) strip "$OUT/gan-gen" ;; esac
echo "built $OUT/gan-gen ($ARCH, Embedded Swift, $(wc -c < "$OUT/gan-gen") bytes stripped)"
