"""Keeps the logging convention of vanban.platform.log in every library and service module.

- A module's logger is `logger = logging.getLogger(__name__)`: one name, the module's own.
- A log call's message is a fixed string literal, and values go in `extra={...}`: no
  positional arguments, no f-string, concatenation or formatting (ruff's G rules catch the
  latter too; they still allow `logger.info("%s ready", name)`, which this refuses).

Usage: python tools/check_logs.py [PATH ...]   (default: libs/*/src and services/*/src)
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Generated from proto/; not ours to style.
SKIP = ROOT / "libs" / "contracts"
LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}


def _is_get_logger(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "getLogger"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "logging"
    )


def problems(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and _is_get_logger(statement.value):
            call = statement.value
            assert isinstance(call, ast.Call)
            names = [t.id for t in statement.targets if isinstance(t, ast.Name)]
            by_module = [a.id if isinstance(a, ast.Name) else None for a in call.args] == [
                "__name__"
            ]
            if names != ["logger"] or not by_module or call.keywords:
                yield (
                    statement.lineno,
                    "a module's logger is `logger = logging.getLogger(__name__)`",
                )
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "logger"
            and node.func.attr in LEVELS | {"log"}
        ):
            continue
        positional = node.args[1:] if node.func.attr == "log" else node.args
        if not positional:
            yield node.lineno, "a log call needs a message"
            continue
        message, *rest = positional
        if not (isinstance(message, ast.Constant) and isinstance(message.value, str)):
            yield node.lineno, "a log message is a fixed string literal; values go in extra={...}"
        elif rest:
            yield node.lineno, "a log message takes no arguments; values go in extra={...}"


def sources(paths: list[str]) -> Iterator[Path]:
    roots = (
        [Path(p) for p in paths]
        if paths
        else [*ROOT.glob("libs/*/src"), *ROOT.glob("services/*/src")]
    )
    for root in roots:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for path in files:
            if not path.resolve().is_relative_to(SKIP):
                yield path


def main(argv: list[str]) -> int:
    found = 0
    for path in sources(argv):
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, problem in problems(tree):
            print(f"{path}:{line}: {problem}")
            found += 1
    if found:
        print(f"{found} break(s) of the logging convention (see vanban.platform.log)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
