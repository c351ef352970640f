#!/usr/bin/env python3
"""Fail if a crate's modules import each other in a circle.

Usage: module-cycles.py SRC_DIR [SRC_DIR ...]   (e.g. server/src conformance/src)

A module is a file (`foo.rs`, `foo/mod.rs`, `lib.rs`). An edge A -> B is any
path in A's code (outside comments) that names B: `crate::b::...`,
`super::...`, `self::child::...`, or a bare `child::...` for a child module A
declares (`mod child;`). A path is resolved to the longest prefix that is a
module, so `crate::guard::Guard` is an edge to `guard` and
`crate::guard::keys::KeyId` one to `guard::keys`. Declaring a child
(`mod child;`) is not an edge; re-exporting from it (`pub use child::X`) is.
Test modules (`#[cfg(test)] mod tests { ... }` at the end of a file) are
ignored: tests may reach anywhere.

The same is checked one level up: the crate's top-level modules (`guard`,
`cluster`, `audit`, `config`, ...), each standing for itself and everything
under it, must not import each other in a circle either, so the layers
(a router above transports above shared pieces) hold as a whole, not only
file by file.

Prints every cycle (strongly connected component of more than one module)
and exits 1 if there is one.
"""
import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    # String literals can hold `crate::` in docs or messages; drop them.
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def strip_tests(text):
    m = re.search(r"#\[cfg\(test\)\]\s*(pub(\(crate\))?\s+)?mod\s+" + IDENT + r"\s*\{", text)
    return text[: m.start()] if m else text


def modules(src):
    """Map module path (tuple) -> file path."""
    found = {}
    for root, _dirs, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, f), src)
            parts = rel[:-3].split(os.sep)
            if parts[-1] == "mod":
                parts = parts[:-1]
            if parts in (["lib"], ["main"]):
                parts = []
            if parts and parts[-1] == "main" and len(parts) == 1:
                continue
            found.setdefault(tuple(parts), os.path.join(root, f))
    # main.rs is a separate crate root (the binary); keep lib.rs as ().
    lib = os.path.join(src, "lib.rs")
    if os.path.exists(lib):
        found[()] = lib
    return found


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = tree.strip()
    i = tree.find("{")
    if i < 0:
        return [re.sub(r"\s+as\s+" + IDENT + "$", "", tree).strip()]
    prefix, inner = tree[:i], tree[i + 1 : tree.rfind("}")]
    out, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    out.append(cur)
    paths = []
    for part in out:
        if part.strip():
            paths += [prefix + p for p in expand_use(part)]
    return paths


def paths_in(code):
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", code):
        paths += expand_use(m.group(1))
    code = re.sub(r"\buse\s+[^;]+;", "", code)
    paths += re.findall(r"\b(?:" + IDENT + r"::)+" + IDENT, code)
    return [re.sub(r"\s+", "", p) for p in paths]


def resolve(path, here, mods, children):
    parts = [p for p in path.split("::") if p]
    if not parts:
        return None
    if parts[0] == "crate":
        base, rest = (), parts[1:]
    elif parts[0] == "super":
        base, rest = here, parts
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    elif parts[0] == "self":
        base, rest = here, parts[1:]
    elif parts[0] in children.get(here, ()):
        base, rest = here, parts
    else:
        return None  # an external crate or a local name
    best = base
    for n in range(1, len(rest) + 1):
        cand = base + tuple(rest[:n])
        if cand in mods:
            best = cand
        else:
            break
    return best


def check(src):
    mods = modules(src)
    children = {}
    code_of = {}
    for mod, path in mods.items():
        with open(path, encoding="utf-8") as fh:
            code = strip_tests(strip_comments(fh.read()))
        code_of[mod] = code
        children[mod] = set(re.findall(r"\bmod\s+(" + IDENT + r")\s*;", code))
    edges = {m: set() for m in mods}
    for mod, code in code_of.items():
        for p in paths_in(code):
            target = resolve(p, mod, mods, children)
            if target is not None and target != mod:
                edges[mod].add(target)
    top = {}
    for mod, targets in edges.items():
        for t in targets:
            if mod and t and mod[0] != t[0]:
                top.setdefault(mod[:1], set()).add(t[:1])
    tops = {m[:1] for m in mods if m}
    ok = report(src, "modules", mods, edges)
    return report(src, "top-level modules", tops, top) and ok


def sccs_of(nodes, edges):
    """Tarjan's strongly connected components of more than one node."""
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sccs


def report(src, what, nodes, edges):
    sccs = sccs_of(nodes, edges)
    name = lambda m: "crate::" + "::".join(m) if m else "crate"
    for comp in sccs:
        members = set(comp)
        print(f"{src}: import cycle among {len(comp)} {what}:")
        for m in sorted(comp):
            inside = sorted(name(t) for t in edges.get(m, ()) if t in members)
            print(f"  {name(m)} -> {', '.join(inside)}")
    n_edges = sum(len(e) for e in edges.values())
    print(f"{src}: {len(nodes)} {what}, {n_edges} imports, {len(sccs)} cycles")
    return not sccs


if __name__ == "__main__":
    ok = all([check(d) for d in sys.argv[1:]])
    sys.exit(0 if ok else 1)
