#!/usr/bin/env python3
"""List the circles among C files: file A calls a function defined in file B and B, directly
or through others, calls one defined in A. Usage: call-cycles.py [--tap] DIR...
A function is defined in a file when a line starting at column 0 names it before '(' and
the declaration is followed by a '{' line; static functions stay inside their file. Prints
each circle (a strongly connected component of the call graph between files) with the calls
that form it; exit status 1 when there is one."""
import os
import re
import sys

DEF = re.compile(r'^(?!static\b)[A-Za-z_][\w \*]*?\b([A-Za-z_]\w*)\s*\(')
CALL = re.compile(r'\b([A-Za-z_]\w*)\s*\(')
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\])*"', re.S)


def sources(dirs):
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in sorted(files):
                if f.endswith('.c'):
                    yield os.path.join(root, f)


def scan(path):
    text = COMMENT.sub(' ', open(path, encoding='utf-8', errors='replace').read())
    lines = text.split('\n')
    defined = set()
    for i, line in enumerate(lines):
        m = DEF.match(line)
        if not m or line.rstrip().endswith(';'):
            continue
        for nxt in lines[i:i + 8]:  # the parameter list may span lines
            s = nxt.strip()
            if s.endswith(';'):
                break
            if s.endswith('{'):
                defined.add(m.group(1))
                break
    return defined, set(CALL.findall(text))


def components(nodes, edges):
    """Tarjan's strongly connected components."""
    index, low, stack, on, out = {}, {}, [], set(), []
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = len(index)
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
            out.append(sorted(comp))

    for v in nodes:
        if v not in index:
            visit(v)
    return out


def main(argv):
    tap = '--tap' in argv
    dirs = [a for a in argv if a != '--tap']
    owner, calls = {}, {}
    for path in sources(dirs):
        defined, called = scan(path)
        calls[path] = called
        for name in defined:
            owner.setdefault(name, path)
    edges, why = {}, {}
    for path, called in calls.items():
        for name in called:
            target = owner.get(name)
            if target and target != path:
                edges.setdefault(path, set()).add(target)
                why.setdefault((path, target), set()).add(name)
    circles = [c for c in components(sorted(calls), edges) if len(c) > 1]
    lines = []
    for c in circles:
        lines.append('circle: ' + ' '.join(c))
        for a in c:
            for b in c:
                if (a, b) in why:
                    lines.append('  %s -> %s: %s' % (a, b, ', '.join(sorted(why[(a, b)]))))
    if tap:
        print('1..1')
        print('%s 1 - no call circle between the C files of %s' %
              ('not ok' if circles else 'ok', ' '.join(dirs)))
        for line in lines:
            print('# ' + line)
    else:
        print('\n'.join(lines) if lines else 'no circle')
    return 1 if circles else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
