#!/usr/bin/env python3
"""Lists the import cycles between the files of src/: groups of files that reach each other
through `use crate::…`, `use super::…` and `use self::…` (and such paths written inline in
code). A cycle means that no file of the group can be read, or changed, without the others.

    scripts/import-cycles.py [SRC]        (SRC defaults to the repository's src/)

The modules are found from the crate roots (src/lib.rs, src/main.rs) by their `mod x;`
lines. An edge goes from a file to the file of the module a path names; a name a `mod.rs`
re-exports from a child (`pub use child::Name`) leads on to the child's file. A parent
reaching its children by their bare names (`boxes::build` in layout/mod.rs) is the module
tree, not an import, and makes no edge. Test code (`#[cfg(test)] mod tests { … }`, and
`#[cfg(test)] mod x;` files) does not count.

Prints each strongly connected component of more than one file, with the edges inside it
and the names each edge imports, or "no import cycles". Exits 0 either way (the check
reports; `--fail` makes it exit 1 when there is a cycle).
"""

import os
import re
import sys

from rust_source import matching_brace, strip_comments_and_strings

ROOTS = ("lib.rs", "main.rs")


TEST_MOD = re.compile(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*([;{])")


def without_tests(text):
    """The code with `#[cfg(test)] mod x { … }` blocks cut out, and the names of
    `#[cfg(test)] mod x;` files."""
    test_files = set()
    while True:
        m = TEST_MOD.search(text)
        if not m:
            return text, test_files
        if m.group(2) == ";":
            test_files.add(m.group(1))
            text = text[: m.start()] + text[m.end():]
        else:
            end = matching_brace(text, m.end() - 1)
            text = text[: m.start()] + text[end:]


def split_top(s, sep=","):
    """`s` split at `sep` outside braces."""
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def expand_use(tree):
    """A use tree (`a::{b, c::{d, e as f}}`) as full paths, each a list of segments; a
    renamed import keeps its original name (`e as f` → `e`)."""
    tree = re.sub(r"\s*(::|\{|\}|,)\s*", r"\1", tree.strip())
    brace = tree.find("{")
    if brace < 0:
        path = re.sub(r"\s+as\s+\w+$", "", tree)
        return [[s for s in path.split("::") if s]]
    prefix = [s for s in tree[:brace].split("::") if s]
    inner = tree[brace + 1: matching_brace(tree, brace) - 1]
    out = []
    for part in split_top(inner):
        for rest in expand_use(part):
            out.append(prefix + rest)
    return out


class Crate:
    def __init__(self, src):
        self.src = src
        self.files = {}  # module path (tuple) -> file
        self.module_of = {}  # file -> module path
        self.code = {}  # file -> code without comments, strings and tests
        self.children = {}  # file -> {child name: child module path}
        for root in ROOTS:
            path = os.path.join(src, root)
            if os.path.exists(path):
                self.add(path, (root[:-3],))

    def add(self, path, module):
        self.files[module] = path
        self.module_of[path] = module
        with open(path, encoding="utf-8") as f:
            code, test_files = without_tests(strip_comments_and_strings(f.read()))
        self.code[path] = code
        base = os.path.basename(path)
        if base in ROOTS or base == "mod.rs":
            folder = os.path.dirname(path)
        else:
            folder = path[:-3]
        self.children[path] = {}
        for m in re.finditer(r"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code):
            name = m.group(1)
            if name in test_files:
                continue
            for candidate in (os.path.join(folder, name + ".rs"), os.path.join(folder, name, "mod.rs")):
                if os.path.exists(candidate):
                    self.children[path][name] = module + (name,)
                    self.add(candidate, module + (name,))
                    break

    def reexports(self, path):
        """The names a module file re-exports from its children: name -> child module."""
        out = {}
        code = self.code[path]
        for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", code):
            for segs in expand_use(m.group(1)):
                if segs and segs[0] in self.children[path] and len(segs) >= 2:
                    out[segs[-1]] = self.children[path][segs[0]] + tuple(segs[1:-1])
        return out

    def resolve(self, path, segs):
        """The file a path written in `path` names (None outside the crate), and the name."""
        module = list(self.module_of[path])
        if not segs:
            return None, None
        if segs[0] == "crate":
            module = module[:1]
            segs = segs[1:]
        elif segs[0] in ("super", "self"):
            while segs and segs[0] in ("super", "self"):
                if segs[0] == "super":
                    module = module[:-1]
                segs = segs[1:]
            if not module:
                return None, None
        else:
            return None, None
        module = tuple(module)
        while segs and module + (segs[0],) in self.files:
            module = module + (segs[0],)
            segs = segs[1:]
        name = segs[0] if segs else "self"
        # Follow a name re-exported from a child (at most a few levels).
        for _ in range(4):
            file = self.files[module]
            target = self.reexports(file).get(name)
            if target is None or target not in self.files:
                break
            module = target
        return self.files[module], name

    def edges(self):
        """{(from, to): set of names}."""
        found = {}
        for path, code in self.code.items():
            paths = []
            uses = list(re.finditer(r"\buse\s+([^;]+);", code))
            for m in uses:
                paths.extend(expand_use(m.group(1)))
            rest = re.sub(r"\buse\s+[^;]+;", " ", code)
            for m in re.finditer(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)", rest):
                paths.append(m.group(1).split("::"))
            for segs in paths:
                target, name = self.resolve(path, segs)
                if target and target != path:
                    found.setdefault((path, target), set()).add(name)
        return found


def components(nodes, edges):
    """Tarjan's strongly connected components."""
    graph = {n: [] for n in nodes}
    for a, b in edges:
        graph[a].append(b)
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            out.append(sorted(group))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    args = [a for a in sys.argv[1:] if a != "--fail"]
    here = os.path.dirname(os.path.abspath(__file__))
    src = args[0] if args else os.path.join(here, "..", "src")
    src = os.path.normpath(src)
    crate = Crate(src)
    edges = crate.edges()
    rel = lambda p: os.path.relpath(p, src)
    cycles = [g for g in components(crate.code.keys(), edges) if len(g) > 1]
    print(f"import-cycles: {len(crate.code)} files, {len(edges)} file-to-file imports, {len(cycles)} cycles")
    for group in sorted(cycles):
        print("cycle: " + " <-> ".join(rel(f) for f in group))
        members = set(group)
        for (a, b), names in sorted(edges.items()):
            if a in members and b in members:
                print(f"  {rel(a)} -> {rel(b)}: {', '.join(sorted(names))}")
    if not cycles:
        print("no import cycles")
    sys.exit(1 if cycles and "--fail" in sys.argv else 0)


if __name__ == "__main__":
    main()
