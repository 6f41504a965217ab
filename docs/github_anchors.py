#!/usr/bin/env python3
"""Doxygen input filter for the Markdown pages (FILTER_PATTERNS in docs/Doxyfile.in).

GitHub gives every heading an anchor (lower case, spaces to dashes, punctuation dropped), and
the README links to them, e.g. [Quick start](#quick-start). Doxygen names headings itself, so
this filter appends the GitHub anchor as an explicit id, {#quick-start}, to each heading of
level 2 and below (the first-level heading is the page title) outside code blocks, and the same
links work in both places. Lines are neither added nor removed, so doxygen's line numbers stay
those of the file.
"""
import re
import sys

def slug(title: str) -> str:
    s = title.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")

def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = f.read().split("\n")
    fence = None
    seen = {}
    for i, line in enumerate(lines):
        m = re.match(r"^(```+|~~~+)", line)
        if m:
            fence = None if fence and line.startswith(fence) else (fence or m.group(1))
            continue
        if fence:
            continue
        h = re.match(r"^(#{2,6})\s+(.*?)\s*$", line)
        if h and not h.group(2).endswith("}"):
            base = slug(re.sub(r"`", "", h.group(2)))
            n = seen.get(base, 0)
            seen[base] = n + 1
            anchor = base if n == 0 else f"{base}-{n}"
            lines[i] = f"{h.group(1)} {h.group(2)} {{#{anchor}}}"
    sys.stdout.write("\n".join(lines))

if __name__ == "__main__":
    main()
