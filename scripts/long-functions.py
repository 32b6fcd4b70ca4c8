#!/usr/bin/env python3
"""Lists the Rust functions over 150 lines and the files over 1,000 lines under src/: the
places where one piece of code holds more than a reader can keep in mind at once.

    scripts/long-functions.py [SRC] [--fail]     (SRC defaults to the repository's src/)

A function is counted from its `fn` line to the line of its closing brace (braces matched
with comments and literals blanked out); a function inside another is listed on its own,
and its lines count for both. A file is counted whole, its tests included. Exits 0 (with
`--fail`, 1 when anything is listed).
"""

import os
import re
import sys

from rust_source import matching_brace, strip_comments_and_strings

MAX_FUNCTION = 150
MAX_FILE = 1000

FN = re.compile(r"\bfn\s+(\w+)")


def functions(code):
    """(name, first line, last line) of each function with a body in `code`."""
    out = []
    for m in FN.finditer(code):
        # The body starts at the first `{` past the signature; a `;` first means none
        # (a trait's required method). Parentheses and angle brackets hold no braces.
        k = m.end()
        while k < len(code) and code[k] not in "{;":
            k += 1
        if k >= len(code) or code[k] == ";":
            continue
        end = matching_brace(code, k)
        first = code.count("\n", 0, m.start()) + 1
        last = code.count("\n", 0, end - 1) + 1
        out.append((m.group(1), first, last))
    return out


def main():
    args = [a for a in sys.argv[1:] if a != "--fail"]
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.normpath(args[0] if args else os.path.join(here, "..", "src"))
    long_files, long_fns = [], []
    for folder, _, names in os.walk(src):
        for name in sorted(names):
            if not name.endswith(".rs"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            rel = os.path.relpath(path, src)
            lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
            if lines > MAX_FILE:
                long_files.append((lines, rel))
            for fn, first, last in functions(strip_comments_and_strings(text)):
                length = last - first + 1
                if length > MAX_FUNCTION:
                    long_fns.append((length, rel, first, fn))
    print(f"long-functions: files over {MAX_FILE} lines: {len(long_files)}; functions over {MAX_FUNCTION} lines: {len(long_fns)}")
    for lines, rel in sorted(long_files, reverse=True):
        print(f"file {rel}: {lines} lines")
    for length, rel, first, fn in sorted(long_fns, reverse=True):
        print(f"fn {rel}:{first} {fn}: {length} lines")
    sys.exit(1 if (long_files or long_fns) and "--fail" in sys.argv else 0)


if __name__ == "__main__":
    main()
