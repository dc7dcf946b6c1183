"""Lists functions in plugins/ longer than the limit (default 60 lines); exits 1 if any.

Usage: scripts/check_function_length.py [--limit N] [--top K] [paths...]
"""
import argparse
import ast
import pathlib
import sys


def functions(path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.lineno, node.end_lineno - node.lineno + 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--limit', type=int, default=60)
    parser.add_argument('--top', type=int, default=0, help='also print the K longest functions')
    parser.add_argument('paths', nargs='*', default=['plugins'])
    args = parser.parse_args()
    found = []
    for root in args.paths:
        for path in sorted(pathlib.Path(root).rglob('*.py')):
            for name, line, length in functions(path):
                found.append((length, '%s:%d %s' % (path, line, name)))
    found.sort(reverse=True)
    for length, where in found[:args.top]:
        print('%4d  %s' % (length, where))
    too_long = [(length, where) for length, where in found if length > args.limit]
    for length, where in too_long:
        print('too long (%d > %d lines): %s' % (length, args.limit, where))
    print('functions: %d, longest %d lines, over %d: %d' % (len(found), found[0][0] if found else 0, args.limit, len(too_long)))
    return 1 if too_long else 0


if __name__ == '__main__':
    sys.exit(main())
