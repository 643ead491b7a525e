"""Import cycles and upward imports inside lstmkit, from its import graph (grimp).

    .venv/bin/python benchmarks/import_graph.py [CHECKOUT]

CHECKOUT (default: this one) is the folder holding the ``lstmkit`` package, so the same
count can be taken on an older commit (``git worktree add /tmp/old REV``). It prints

* module-level import cycles (strongly connected groups of modules that import each other);
* pairs of subpackages that import each other;
* upward imports: a module importing one of a higher layer, the layers being, bottom up,
  core (and the old ``errors``), ref, nn, the old layer folders (data, training,
  evaluation), the jobs (forecast, classify, text; the old models), registry,
  experiments / introspect, cli.

``lint-imports`` (run by ``make test``) enforces the same rules as contracts; this script
gives the numbers.
"""

from __future__ import annotations

import sys

RANK = {"lstmkit.errors": 0, "lstmkit.core": 0, "lstmkit.ref": 1, "lstmkit.nn": 2,
        "lstmkit.data": 3, "lstmkit.training": 3, "lstmkit.evaluation": 3,
        "lstmkit.models": 4, "lstmkit.forecast": 4, "lstmkit.classify": 4, "lstmkit.text": 4,
        "lstmkit.registry": 5, "lstmkit.experiments": 6, "lstmkit.introspect": 6,
        "lstmkit.cli": 7}


def top(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


def cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    succ = {m: [w for w in graph.find_modules_directly_imported_by(m) if w in graph.modules]
            for m in graph.modules}
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(succ[root]))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(succ[w])))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def main() -> int:
    if len(sys.argv) > 1:
        sys.path.insert(0, sys.argv[1])
    import grimp

    g = grimp.build_graph("lstmkit")
    edges = [(m, w) for m in g.modules for w in g.find_modules_directly_imported_by(m)
             if w in g.modules]
    found = cycles(g)
    print(f"module-level import cycles: {len(found)}")
    for c in found:
        print("   ", " <-> ".join(x.removeprefix("lstmkit.") for x in c))
    deps: dict[str, set[str]] = {}
    for m, w in edges:
        a, b = top(m), top(w)
        if a != b and "lstmkit" not in (a, b):
            deps.setdefault(a, set()).add(b)
    pairs = sorted({tuple(sorted((a, b))) for a in deps for b in deps[a]
                    if a in deps.get(b, set())})
    print(f"subpackage pairs importing each other: {len(pairs)}")
    for a, b in pairs:
        print(f"    {a} <-> {b}")
    up = sorted((m, w) for m, w in edges if top(m) in RANK and top(w) in RANK
                and RANK[top(w)] > RANK[top(m)])
    print(f"upward imports: {len(up)}")
    for m, w in up:
        print(f"    {m.removeprefix('lstmkit.')} -> {w.removeprefix('lstmkit.')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
