#!/usr/bin/env python3
"""Writes the hostile-input fixtures (Tests/GanDataTests/Fixtures/hostile/), each a few hundred
bytes that claim far more than they hold: the reliability tests assert one clear line and a peak
RSS bound for each. Also the fuzzers' seeds start from them. Standard library only."""
import json, os, struct, sys, zlib

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "Tests", "GanDataTests", "Fixtures", "hostile")
os.makedirs(out, exist_ok=True)


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


# A PNG whose IHDR claims 20000x20000 RGB (1.2 GB of pixels) with one row of data.
ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
idat = zlib.compress(b"\x00" + b"\x80" * (3 * 20000))
write("claims_20000x20000.png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) +
      png_chunk(b"IEND", b""))

# halves.jpg with its frame header (SOF0/SOF2) patched to 20000x20000.
jpeg = bytearray(open(os.path.join(here, "..", "Tests", "GanDataTests", "Fixtures", "halves.jpg"), "rb").read())
i = 2
while i < len(jpeg):
    assert jpeg[i] == 0xFF
    marker, length = jpeg[i + 1], struct.unpack(">H", jpeg[i + 2:i + 4])[0]
    if marker in (0xC0, 0xC1, 0xC2):
        jpeg[i + 5:i + 9] = struct.pack(">HH", 20000, 20000)
        break
    i += 2 + length
write("claims_20000x20000.jpg", bytes(jpeg))


def npy(descr, shape, data):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(tuple(shape)))
    while (10 + len(header) + 1) % 64:
        header += " "
    header += "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data


# float32 latents claiming 4 TB; uint8 images claiming 1 TB; a shape whose product overflows int64.
write("claims_4TB_latents.npy", npy("<f4", (1_000_000_000, 1000), b"\0" * 64))
write("claims_1TB_images.npy", npy("|u1", (1_000_000_000, 32, 32), b"\0" * 64))
write("overflowing_shape.npy", npy("<f4", (1 << 40, 1 << 40), b"\0" * 64))


def safetensors(header, data=b""):
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


# A header length of 2^60; a tensor claiming 4 TB of data; a shape whose byte count overflows.
write("claims_2e60_byte_header.safetensors", struct.pack("<Q", 1 << 60) + b"{}")
write("claims_4TB_tensor.safetensors",
      safetensors({"main.0.weight": {"dtype": "F32", "shape": [1_000_000_000_000], "data_offsets": [0, 4_000_000_000_000]}}))
write("overflowing_bytes.safetensors",
      safetensors({"main.0.weight": {"dtype": "F64", "shape": [1 << 39, 1 << 23], "data_offsets": [0, 0]}}))

# IDX images whose header claims 2^32-1 images of 2^32-1 x 2^32-1 (the product overflows int64).
write("overflowing.idx", struct.pack(">IIII", 0x803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + b"\0" * 64)
# IDX images claiming 10^9 images of 28x28 (784 GB) with 64 bytes of data.
write("claims_784GB.idx", struct.pack(">IIII", 0x803, 1_000_000_000, 28, 28) + b"\0" * 64)
print("wrote", len(os.listdir(out)), "files to", os.path.relpath(out))
