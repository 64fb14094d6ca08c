#!/bin/sh
# Installs the Debian packages swift-gan builds against, when missing:
#   libpng-dev, libjpeg62-turbo-dev (image I/O); the kernels need no OpenMP runtime,
# plus any package names given as arguments (e.g. dataset-fashion-mnist).
set -e
missing=""
for pkg in libpng-dev libjpeg62-turbo-dev "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
echo "swift-gan: installing$missing" >&2
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "swift-gan: need root (or sudo) to apt-get install$missing" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Packages named NAME:arm64 (the board build's libraries) install beside the x86 ones once dpkg
# knows the architecture.
case "$missing" in *:arm64*)
  dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64 ;;
esac
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq $missing >/dev/null
