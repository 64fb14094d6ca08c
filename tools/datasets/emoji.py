#!/usr/bin/env python3
"""The 64x64 colour stand-in for anime faces: every bitmap of Debian's Noto Color Emoji font
(fonts-noto-color-emoji: 3,926 glyphs in its CBDT table, single code points and sequences),
composited on white and resized to 64x64 RGB PNGs that gan-train --dataroot reads.

    tools/datasets/emoji.py --out data/emoji            # all glyphs
    tools/datasets/emoji.py --out data/emoji-faces --faces

--faces keeps the glyphs whose first code point's Unicode name contains FACE (clock faces left
out), following the font's ligature table for sequences. Needs fonts-noto-color-emoji and
python3-fonttools, python3-pil (installed with apt-get when missing); runs with /usr/bin/python3.
"""
import argparse
import io
import os
import subprocess
import sys
import unicodedata

FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def ensure_packages():
    missing = not os.path.exists(FONT)
    try:
        import fontTools  # noqa: F401
        import PIL  # noqa: F401
    except ImportError:
        missing = True
    if missing:
        subprocess.run([os.path.join(ROOT, "tools", "install-deps.sh"), "fonts-noto-color-emoji",
                        "python3-fonttools", "python3-pil"], check=True)
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)


def glyph_first_codepoints(font):
    """Glyph name -> first code point of the sequence it draws (cmap, then GSUB ligatures)."""
    cmap = font.getBestCmap()
    first = {g: cp for cp, g in cmap.items()}
    if "GSUB" in font:
        for lookup in font["GSUB"].table.LookupList.Lookup:
            for sub in lookup.SubTable:
                ligs = getattr(sub, "ligatures", None)
                if ligs is None and hasattr(sub, "ExtSubTable"):
                    ligs = getattr(sub.ExtSubTable, "ligatures", None)
                for start, entries in (ligs or {}).items():
                    for lig in entries:
                        if start in first and lig.LigGlyph not in first:
                            first[lig.LigGlyph] = first[start]
    return first


def is_face(cp):
    try:
        name = unicodedata.name(chr(cp))
    except ValueError:
        return False
    return "FACE" in name and "CLOCK" not in name


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--faces", action="store_true", help="only face emoji")
    ap.add_argument("--size", type=int, default=64, help="output side in pixels (default 64)")
    args = ap.parse_args()
    ensure_packages()
    from fontTools.ttLib import TTFont
    from PIL import Image

    font = TTFont(FONT)
    strike = font["CBDT"].strikeData[0]
    first = glyph_first_codepoints(font)
    os.makedirs(args.out, exist_ok=True)
    written = 0
    for name in sorted(strike):
        if args.faces and not (name in first and is_face(first[name])):
            continue
        glyph = strike[name]
        data = getattr(glyph, "imageData", None)
        if not data or not data.startswith(b"\x89PNG"):
            continue
        img = Image.open(io.BytesIO(data)).convert("RGBA")
        side = max(img.size)
        canvas = Image.new("RGBA", (side, side), (255, 255, 255, 255))
        canvas.alpha_composite(img, ((side - img.width) // 2, (side - img.height) // 2))
        canvas.convert("RGB").resize((args.size, args.size), Image.LANCZOS).save(
            os.path.join(args.out, f"emoji_{written:04d}.png"))
        written += 1
    print(f"wrote {written} {'face ' if args.faces else ''}emoji of {len(strike)} glyphs to {args.out}/")


if __name__ == "__main__":
    main()
