"""The functions in src/ longer than a screen, longest first (the project's rule: about 50
lines). Reads the source with ``ast``; imports nothing of unetlab.

    python3 bench/function_lengths.py            # over 50 lines, counted with the docstring
    python3 bench/function_lengths.py --over 40  # another limit
    python3 bench/function_lengths.py --code     # limit on the lines after the docstring

Each row: lines in all (``def`` or its first decorator to the last line), lines of code (after
the docstring), and ``path:line qualified.name``. Prints a table; writes nothing.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def functions(tree: ast.AST, prefix: str = ""):
    """(qualified name, node) of every function in ``tree``, methods and nested ones too."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
            name = f"{prefix}{node.name}"
            if isinstance(node, FUNCTIONS):
                yield name, node
            yield from functions(node, f"{name}.")
        else:
            yield from functions(node, prefix)


def lengths(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, int]:
    """(lines in all, from the first decorator; lines after the docstring)."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    total = node.end_lineno - first + 1
    body = node.body
    first_line = body[0]
    if isinstance(first_line, ast.Expr) and isinstance(first_line.value, ast.Constant):
        body = body[1:] if isinstance(first_line.value.value, str) else body
    code = node.end_lineno - body[0].lineno + 1 if body else 0
    return total, code


def long_functions(src: Path, over: int, *, code: bool = False) -> list[tuple[int, int, str]]:
    """(total, code lines, "path:line name") of the functions over ``over`` lines (of code
    with ``code``, else in all), longest first."""
    rows = []
    for path in sorted(src.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, node in functions(tree):
            total, body = lengths(node)
            if (body if code else total) > over:
                rows.append((total, body, f"{path.relative_to(ROOT)}:{node.lineno} {name}"))
    return sorted(rows, key=lambda r: (-(r[1] if code else r[0]), r[2]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--over", type=int, default=50, help="the limit in lines (default 50)")
    parser.add_argument("--code", action="store_true", help="count lines after the docstring")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="folder (default src/)")
    args = parser.parse_args()
    rows = long_functions(args.src, args.over, code=args.code)
    counted = "lines of code" if args.code else "lines"
    print(f"{len(rows)} functions over {args.over} {counted}")
    print(f"{'all':>5} {'code':>5}  function")
    for total, body, where in rows:
        print(f"{total:>5} {body:>5}  {where}")


if __name__ == "__main__":
    main()
