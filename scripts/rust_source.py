"""Reading Rust source roughly, for the scripts that check the code's shape
(import-cycles.py, long-functions.py): comments and literals blanked out, braces matched.
Not a parser: good enough for code that rustfmt has formatted."""

import re

RAW_STRING = re.compile(r'b?r(#*)"')
CHAR = re.compile(r"b?'(\\[^']+|[^'\\])'")


def blank(span):
    """As many newlines as `span` has, so that line numbers stay true."""
    return "\n" * span.count("\n")


def strip_comments_and_strings(text):
    """The text with comments removed and string and char literals emptied (`""`, `' '`),
    keeping every newline. Raw strings, escapes, nested block comments and lifetimes
    (`'a`, not a char) are told apart."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            start, depth, i = i, 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            out.append(" " + blank(text[start:i]))
            continue
        after_word = i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")
        m = RAW_STRING.match(text, i)
        if m and not after_word:
            end = text.find('"' + m.group(1), m.end())
            end = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""' + blank(text[i:end]))
            i = end
            continue
        if c == '"' or (c == "b" and text.startswith('b"', i) and not after_word):
            start = i
            i += 2 if c == "b" else 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""' + blank(text[start:i]))
            continue
        if c in "'b" and not after_word:
            m = CHAR.match(text, i)
            if m:
                out.append("' '")
                i = m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


def matching_brace(text, open_at):
    """The index just past the brace that closes the one at `open_at`."""
    depth = 0
    for k in range(open_at, len(text)):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                return k + 1
    return len(text)
