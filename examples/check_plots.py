#!/usr/bin/env python3
"""Checks the SVG files a trainer wrote with --plots DIR: each must be well-formed XML with an
<svg> root (parsed with xml.etree), and the expected files must be there with their marks.

usage: check_plots.py DIR FILE[:GROUP:ELEMENT:MIN] ...
  FILE must exist and parse; with GROUP:ELEMENT:MIN it must hold at least MIN <ELEMENT> children
  in its <g class="GROUP"> groups (e.g. raster_layer2.svg:spikes:rect:1). Every other .svg file in
  DIR must parse too. Exit status 0 when all hold, 1 otherwise (the reasons on stderr).
"""
import os
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"


def marks(root, group, element):
    n = 0
    for g in root.iter(NS + "g"):
        if g.get("class") == group:
            n += sum(1 for c in g if c.tag == NS + element)
    return n


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder, specs = argv[1], argv[2:]
    failures = []
    parsed = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".svg"):
            continue
        try:
            root = ET.parse(os.path.join(folder, name)).getroot()
        except ET.ParseError as e:
            failures.append(f"{name}: not well-formed XML: {e}")
            continue
        if root.tag != NS + "svg":
            failures.append(f"{name}: the root element is {root.tag}, not svg")
            continue
        parsed[name] = root
    for spec in specs:
        name, *rest = spec.split(":")
        if name not in parsed:
            failures.append(f"{name}: missing or not a valid SVG file")
            continue
        if rest:
            group, element, least = rest[0], rest[1], int(rest[2])
            n = marks(parsed[name], group, element)
            print(f"{name}: {n} <{element}> in <g class=\"{group}\">")
            if n < least:
                failures.append(f"{name}: {n} <{element}> marks in <g class=\"{group}\">, expected at least {least}")
    for f in failures:
        print("error: " + f, file=sys.stderr)
    print(f"{len(parsed)} SVG files parsed in {folder}, {len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
