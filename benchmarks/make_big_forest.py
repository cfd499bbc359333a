#!/usr/bin/env python3
"""Makes a large forest PMML for load-time measurements by repeating the tree Segments of an existing one.

    python3 benchmarks/make_big_forest.py IN.pmml OUT.pmml --target-mb 100

The tree Segments of IN's innermost ensemble (the first <Segment> whose model is a <TreeModel>, through the
last one of the same Segmentation) are written again and again, renumbered, until OUT reaches about the target
size. Everything else is kept byte for byte, so OUT is as valid as IN; its scores differ (more trees), which
does not matter for loading. Expects a pretty-printed document (one element per line, as sklearn2pmml
writes), whose indentation tells where the Segmentation ends. The output is large: never commit it.
"""

import argparse
import re
import sys


def tree_segment_span(lines):
    """(first, end) line indices of the run of tree Segments, [first, end)."""
    segment = re.compile(r"^(\s*)<Segment[\s>]")
    for i, line in enumerate(lines):
        m = segment.match(line)
        if not m:
            continue
        # The Segment's model comes after its predicate, within a few lines.
        if not any("<TreeModel" in l for l in lines[i + 1:i + 4]):
            continue
        indent = m.group(1)
        close = indent + "</Segment>"
        end_of_segmentation = indent[:-1] + "</Segmentation>" if indent else "</Segmentation>"
        last = None
        for j in range(i, len(lines)):
            stripped = lines[j].rstrip("\r\n")
            if stripped == close:
                last = j
            elif stripped == end_of_segmentation:
                break
        if last is None:
            sys.exit("no closing </Segment> found at the first tree Segment's indentation")
        return i, last + 1
    sys.exit("no <Segment> holding a <TreeModel> found")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--target-mb", type=float, default=100.0, help="approximate size of the output (MB, 10^6 bytes)")
    args = ap.parse_args()
    with open(args.input, encoding="utf-8") as f:
        lines = f.readlines()
    first, end = tree_segment_span(lines)
    head, block, tail = "".join(lines[:first]), lines[first:end], "".join(lines[end:])
    block_bytes = sum(len(l.encode("utf-8")) for l in block)
    other_bytes = len(head.encode("utf-8")) + len(tail.encode("utf-8"))
    copies = max(1, round((args.target_mb * 1e6 - other_bytes) / block_bytes))
    indent = re.match(r"^(\s*)", block[0]).group(1)
    segment_id = re.compile(r'^(' + re.escape(indent) + r'<Segment\b[^>]*?\bid=")[^"]*(")')
    next_id = 0
    with open(args.output, "w", encoding="utf-8", newline="") as out:
        out.write(head)
        for _ in range(copies):
            for line in block:
                if segment_id.match(line):
                    next_id += 1
                    line = segment_id.sub(lambda m: m.group(1) + str(next_id) + m.group(2), line, count=1)
                out.write(line)
        out.write(tail)
    print(f"{args.output}: {copies} copies of {next_id // copies} tree segments, {next_id} in all")


if __name__ == "__main__":
    main()
