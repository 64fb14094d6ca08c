#!/bin/sh
# The whole test suite: installs missing system packages, builds, runs every test target.
set -e
cd "$(dirname "$0")/.."
tools/install-deps.sh
swift build --build-tests
swift test --skip-build
