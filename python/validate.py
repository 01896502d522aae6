"""Code4Py's validation driver: runs inside the sandbox, as ``python -I -c <this file> OUT FD``.

1. Parses every Python file under the working directory with Python's own parser and writes, to file
   descriptor FD (a pipe to the host), one JSON object: each file's syntax error (exact line and column)
   or its imports, each marked optional (inside ``try: ... except ImportError``) or type-checking only
   (under ``if TYPE_CHECKING:``). FD is closed before any code under validation is loaded, so that code
   cannot write there.
2. Runs the tests with pytest, measuring coverage with coverage.py, and writes into OUT: ``junit.xml``
   (pytest's per-test results), ``coverage.json`` (coverage.py's report of the non-test files) and
   ``progress`` (the id of each test as it starts, so that a run killed at its time limit still says
   which test hung). Exits with pytest's status.
"""

import ast
import json
import os
import sys

OUT = sys.argv[1]
CHANNEL = int(sys.argv[2])
# Settings from the host, as JSON: {"contexts": bool} (record which test ran each line, for mutation testing).
OPTIONS = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
ROOT = os.getcwd()
TEST_PATTERNS = ["*/test_*.py", "*/*_test.py", "*/conftest.py", "*/tests/*", "*/test/*"]

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


def analyse_tree(root):
    files = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                if not os.path.islink(path):
                    files.append(analyse(path, os.path.relpath(path, root).replace(os.sep, "/")))
    return {"python": sys.version.split()[0], "files": files}


def send_analysis():
    data = json.dumps(analyse_tree(ROOT)).encode("utf-8")
    view = memoryview(data)
    while view:
        view = view[os.write(CHANNEL, view):]
    os.close(CHANNEL)


class Progress:
    """Records each test as it starts (``start\tID``) and as its outcome is known (``done\tID\tOUTCOME\tSECONDS``),
    so that a run killed half-way still says which tests ran, how they ended, and which one was running.
    With coverage contexts on, each test's lines are recorded under its node id."""

    def __init__(self, path, cov=None):
        self.handle = open(path, "w", buffering=1, encoding="utf-8")
        self.cov = cov
        self.failed = set()

    def pytest_runtest_logstart(self, nodeid, location):
        self.handle.write("start\t" + nodeid + "\n")
        if self.cov is not None:
            self.cov.switch_context(nodeid)

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.outcome != "passed":
            if report.nodeid in self.failed:
                return
            outcome = report.outcome if report.when == "call" else ("error" if report.failed else report.outcome)
            if outcome != "passed":
                self.failed.add(report.nodeid)
            self.handle.write("done\t%s\t%s\t%.6f\n" % (report.nodeid, outcome, report.duration))

    def pytest_runtest_logfinish(self, nodeid, location):
        if self.cov is not None:
            self.cov.switch_context("")


def main():
    send_analysis()

    # Import the code under test the way a project's own `pytest` run would find it: from the root, and
    # from src/ in a src layout.
    for extra in (os.path.join(ROOT, "src"), ROOT):
        if os.path.isdir(extra) and extra not in sys.path:
            sys.path.insert(0, extra)

    import coverage
    import pytest

    cov = coverage.Coverage(
        data_file=None,
        source=[ROOT],
        omit=TEST_PATTERNS,
        config_file=False,
        messages=False,
    )
    contexts = bool(OPTIONS.get("contexts"))
    progress = Progress(os.path.join(OUT, "progress"), cov if contexts else None)
    cov.start()
    try:
        status = pytest.main(
            [
                "-q",
                "-p", "no:cacheprovider",
                "--color=no",
                "--tb=short",
                "--rootdir", ROOT,
                "--junitxml", os.path.join(OUT, "junit.xml"),
                "-o", "junit_family=xunit1",
                "-o", "junit_logging=no",
                ROOT,
            ],
            plugins=[progress],
        )
    finally:
        cov.stop()
        progress.handle.close()
    try:
        cov.json_report(outfile=os.path.join(OUT, "coverage.json"), pretty_print=False, show_contexts=contexts)
    except coverage.exceptions.NoDataError:
        pass
    sys.exit(int(status))


if __name__ == "__main__":
    main()
