#!/bin/sh
# A venv for tools/ and benchmarks/peers (never needed to build or test swift-gan).
# PyTorch comes from Debian's python3-torch (CPU build, small); safetensors from PyPI.
set -e
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  apt-get update -qq && apt-get install -y -qq python3-torch python3-numpy python3-venv
fi
[ -x .venv-tools/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .venv-tools
.venv-tools/bin/pip install -q safetensors "numpy<2"  # Debian's torch is built against numpy 1.x
