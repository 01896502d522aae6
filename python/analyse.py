"""Parse every Python file under the working directory with Python's own parser.

Runs inside the sandbox. Prints one JSON object: for each file, the syntax error (exact line and
column) or the imports it makes, each marked optional (inside ``try: ... except ImportError``) or
type-checking only (under ``if TYPE_CHECKING:``).
"""

import ast
import json
import os
import sys

IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def handles_import_error(handler):
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(
        (isinstance(n, ast.Name) and n.id in IMPORT_ERRORS)
        or (isinstance(n, ast.Attribute) and n.attr in IMPORT_ERRORS)
        for n in names
    )


def is_type_checking(test):
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class Imports(ast.NodeVisitor):
    def __init__(self):
        self.found = []
        self.optional = 0
        self.type_checking = 0

    def add(self, node, module, level):
        self.found.append(
            {
                "line": node.lineno,
                "module": module,
                "level": level,
                "optional": self.optional > 0,
                "typeChecking": self.type_checking > 0,
            }
        )

    def visit_Import(self, node):
        for alias in node.names:
            self.add(node, alias.name, 0)

    def visit_ImportFrom(self, node):
        self.add(node, node.module or "", node.level)

    def visit_Try(self, node):
        guarded = any(handles_import_error(h) for h in node.handlers)
        self.optional += guarded
        for child in node.body:
            self.visit(child)
        self.optional -= guarded
        for child in node.handlers + node.orelse + node.finalbody:
            self.visit(child)

    visit_TryStar = visit_Try

    def visit_If(self, node):
        guarded = is_type_checking(node.test)
        self.type_checking += guarded
        for child in node.body:
            self.visit(child)
        self.type_checking -= guarded
        for child in node.orelse:
            self.visit(child)


def analyse(path, relative):
    with open(path, "rb") as handle:
        source = handle.read()
    try:
        tree = ast.parse(source, filename=relative)
    except SyntaxError as error:
        return {
            "path": relative,
            "error": {
                "line": error.lineno or 1,
                "column": error.offset or 0,
                "endLine": getattr(error, "end_lineno", None),
                "message": error.msg,
                "text": (error.text or "").rstrip("\n")[:500],
                "kind": type(error).__name__,
            },
            "imports": [],
        }
    except ValueError as error:  # e.g. null bytes in the source
        return {
            "path": relative,
            "error": {"line": 1, "column": 0, "endLine": None, "message": str(error), "text": "", "kind": "ValueError"},
            "imports": [],
        }
    visitor = Imports()
    visitor.visit(tree)
    return {"path": relative, "error": None, "imports": visitor.found}


def main():
    root = os.getcwd()
    files = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                if os.path.islink(path):
                    continue
                files.append(analyse(path, os.path.relpath(path, root).replace(os.sep, "/")))
    json.dump({"python": sys.version.split()[0], "files": files}, sys.stdout)


if __name__ == "__main__":
    main()
