#!/usr/bin/env python3
"""Draws the package icon, src/icon.png: a small mesh of nodes and edges with one route lit.

Standard library only (no PIL on the build machines), so anyone can redraw it after changing a
shape below: python3 eng/make-icon.py. 128 x 128 pixels (NuGet shows icons at up to 128),
RGBA, anti-aliased by averaging 4 x 4 samples per pixel.
"""
import math
import os
import struct
import zlib

SIZE = 128
SAMPLES = 4  # per axis: 16 samples a pixel smooth the edges without a rasteriser library

BACKGROUND = (0x1F, 0x4E, 0x5F)  # dark teal: reads on both NuGet's light and dark themes
EDGE = (0x8F, 0xB8, 0xC4)        # the mesh's links
ROUTE = (0xF2, 0xB1, 0x34)       # amber: the route the router chose
NODE = (0xFF, 0xFF, 0xFF)

CORNER_RADIUS = 22
NODES = {"a": (30, 36), "b": (98, 28), "c": (32, 98), "d": (96, 96)}
EDGES = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("b", "c")]
ROUTE_EDGE = ("a", "d")
EDGE_WIDTH = 5
ROUTE_WIDTH = 8
NODE_RADIUS = 12
TARGET = "d"  # the chosen node: drawn in the route's colour


def in_rounded_square(x, y):
    r = CORNER_RADIUS
    cx = min(max(x, r), SIZE - r)
    cy = min(max(y, r), SIZE - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def distance_to_segment(px, py, a, b):
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def colour_at(x, y):
    """The colour of one sample point, or None outside the icon (transparent)."""
    if not in_rounded_square(x, y):
        return None
    for name, (nx, ny) in NODES.items():
        if math.hypot(x - nx, y - ny) <= NODE_RADIUS:
            return ROUTE if name == TARGET else NODE
    if distance_to_segment(x, y, NODES[ROUTE_EDGE[0]], NODES[ROUTE_EDGE[1]]) <= ROUTE_WIDTH / 2:
        return ROUTE
    if any(distance_to_segment(x, y, NODES[p], NODES[q]) <= EDGE_WIDTH / 2 for p, q in EDGES):
        return EDGE
    return BACKGROUND


def render():
    rows = []
    n = SAMPLES * SAMPLES
    for py in range(SIZE):
        row = bytearray([0])  # PNG filter type 0 (None) for every scanline
        for px in range(SIZE):
            r = g = b = covered = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    c = colour_at(px + (sx + 0.5) / SAMPLES, py + (sy + 0.5) / SAMPLES)
                    if c is not None:
                        r, g, b, covered = r + c[0], g + c[1], b + c[2], covered + 1
            if covered:
                row += bytes((round(r / covered), round(g / covered), round(b / covered), round(255 * covered / n)))
            else:
                row += bytes(4)
        rows.append(bytes(row))
    return b"".join(rows)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(pixels):
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "icon.png")
    with open(out, "wb") as f:
        f.write(png(render()))
    print(os.path.normpath(out))
