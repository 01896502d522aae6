"""Code4Py's validation driver: runs inside the sandbox, as ``python -I -c <this file> OUT FD [OPTIONS]``.

1. Parses every Python file under the working directory with Python's own parser and writes, to file
   descriptor FD (a pipe to the host), one JSON object: each file's syntax error (exact line and column)
   or its imports, each marked optional (inside ``try: ... except ImportError``) or type-checking only
   (under ``if TYPE_CHECKING:``), and, for test files, where each function and method is defined. FD is
   closed before any code under validation is loaded, so that code cannot write there.
2. Runs the tests with pytest as the project's CI would: from the working directory (the rootdir), with
   no path argument unless OPTIONS selects tests, so the project's own pytest settings (``testpaths``,
   ``addopts``, ``python_files``, markers, from pytest.ini, pyproject.toml, tox.ini or setup.cfg) apply.
   Statement coverage of the non-test files (or of the files OPTIONS names) is recorded by an import hook
   that compiles those modules with a call before each statement, so nothing else is traced; coverage.py
   names the statements and applies the project's settings (``omit``, ``exclude_lines``, from .coveragerc,
   setup.cfg, tox.ini or pyproject.toml). Writes into OUT:
   ``junit.xml`` (pytest's per-test results), ``coverage.json`` (coverage.py's report), ``progress``
   (each test as it starts and as it ends, so that a run that is killed still says what it saw) and
   ``notes.json`` (settings that could not be used). Exits with pytest's status.

OPTIONS is JSON: ``{"contexts": bool, "coverage": "project" | "off" | {"include": [paths]},
"select": [node ids or paths] | null, "analyseOnly": bool, "testFiles": [the project's python_files globs]}``.
"""

import ast
import fnmatch
import json
import os
import sys

OUT = sys.argv[1]
CHANNEL = int(sys.argv[2])
OPTIONS = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
ROOT = os.getcwd()
NOTES = []

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


def is_test_path(relative):
    name = relative.rsplit("/", 1)[-1]
    parts = relative.split("/")[:-1]
    return (
        name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
        or "tests" in parts or "test" in parts
        # The project's own python_files (the host read them), matched as pytest matches them.
        or any(fnmatch.fnmatch(relative if "/" in glob else name, glob) for glob in OPTIONS.get("testFiles", []))
    )


def definitions(tree):
    """Where each function and method of a test file is defined: ``Class.method`` -> first and last line."""
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                if not isinstance(child, ast.ClassDef):
                    found.append({"name": name, "line": first, "end": child.end_lineno or child.lineno})
                visit(child, name + ".")

    visit(tree, "")
    return found


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
    result = {"path": relative, "error": None, "imports": visitor.found}
    if is_test_path(relative):
        result["defs"] = definitions(tree)
    return result


PYTHON_FILES = []


def analyse_tree(root):
    files = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                if not os.path.islink(path):
                    relative = os.path.relpath(path, root).replace(os.sep, "/")
                    PYTHON_FILES.append(relative)
                    files.append(analyse(path, relative))
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


class LineRecorder:
    """Coverage of the files a change touches, at almost no cost to the rest of the run: those modules are
    compiled with a call before each statement (an import hook), and nothing else is traced (coverage.py's
    tracer, called on every function call of pytest and the tests, doubles a suite's time on CPython 3.11).
    coverage.py still says which lines are statements and which the project's settings exclude or omit.
    Writes coverage.py's JSON report shape, with the tests that ran each line when asked."""

    def __init__(self, paths, with_contexts):
        import coverage
        from coverage.files import FnmatchMatcher
        from coverage.misc import join_regex

        try:
            config = coverage.Coverage(data_file=None, config_file=True, messages=False).config
        except Exception as error:
            NOTES.append("coverage settings could not be read (%s); coverage.py's defaults were used" % error)
            config = coverage.Coverage(data_file=None, config_file=False, messages=False).config
        omit = [p if os.path.isabs(p) or p.startswith("*") else os.path.join(ROOT, p) for p in (config.run_omit or [])]
        omitted = FnmatchMatcher(omit) if omit else None
        self.exclude = join_regex(config.exclude_list)
        self.files = [os.path.join(ROOT, p) for p in paths if not (omitted and omitted.match(os.path.join(ROOT, p)))]
        self.index = {os.path.realpath(path): i for i, path in enumerate(self.files)}
        self.stems = {os.path.splitext(os.path.basename(path))[0] for path in self.files}
        self.stems |= {os.path.basename(os.path.dirname(path)) for path in self.files if path.endswith("__init__.py")}
        self.hits = [dict() for _ in self.files]
        self.with_contexts = with_contexts
        self.context = ""

    def hit(self, file, line):
        lines = self.hits[file]
        contexts = lines.get(line)
        if contexts is None:
            lines[line] = contexts = set()
        if self.with_contexts:
            contexts.add(self.context)

    def switch_context(self, context):
        self.context = context

    # -- the import hook --

    def find_spec(self, fullname, path, target=None):
        if fullname.rpartition(".")[2] not in self.stems:
            return None
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(fullname, path)
        if spec is None or not spec.origin or os.path.realpath(spec.origin) not in self.index:
            return None
        spec.loader = Instrumented(fullname, spec.origin, self)
        return spec

    def install(self):
        sys.meta_path.insert(0, self)

    # -- the report --

    def write_json(self, path):
        from coverage.parser import PythonParser

        files = {}
        covered_total = statements_total = 0
        for i, full in enumerate(self.files):
            try:
                with open(full, encoding="utf-8") as handle:
                    parser = PythonParser(text=handle.read(), filename=full, exclude=self.exclude)
                parser.parse_source()
            except Exception:
                continue
            statements = parser.statements
            hits = {}
            for line, contexts in self.hits[i].items():
                first = parser.first_line(line)
                if first in statements:
                    hits.setdefault(first, set()).update(contexts)
            executed = sorted(hits)
            missing = sorted(statements - set(hits))
            entry = {
                "executed_lines": executed,
                "missing_lines": missing,
                "excluded_lines": sorted(parser.excluded),
                "summary": {
                    "covered_lines": len(executed),
                    "num_statements": len(statements),
                    "percent_covered": 100.0 * len(executed) / len(statements) if statements else 100.0,
                    "missing_lines": len(missing),
                    "excluded_lines": len(parser.excluded),
                },
            }
            if self.with_contexts:
                entry["contexts"] = {str(line): sorted(contexts) for line, contexts in hits.items()}
            files[os.path.relpath(full, ROOT).replace(os.sep, "/")] = entry
            covered_total += len(executed)
            statements_total += len(statements)
        report = {
            "meta": {"show_contexts": self.with_contexts, "recorder": "code4py"},
            "files": files,
            "totals": {
                "covered_lines": covered_total,
                "num_statements": statements_total,
                "percent_covered": 100.0 * covered_total / statements_total if statements_total else 100.0,
            },
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(report, handle)


class Instrumented:
    """Loads a module from its source with a recorder call before each statement (docstrings and
    ``from __future__`` imports stay first, as Python requires)."""

    def __init__(self, name, origin, recorder):
        self.name, self.origin, self.recorder = name, origin, recorder

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        with open(self.origin, "rb") as handle:
            source = handle.read()
        tree = ast.parse(source, filename=self.origin)
        file = self.recorder.index[os.path.realpath(self.origin)]
        instrument(tree, file)
        module.__dict__["__code4py_hit__"] = self.recorder.hit
        exec(compile(tree, self.origin, "exec"), module.__dict__)


def instrument(tree, file):
    def call(line):
        return ast.Expr(ast.Call(ast.Name("__code4py_hit__", ast.Load()), [ast.Constant(file), ast.Constant(line)], []))

    def lines_of(node):
        lines = [node.lineno]
        for decorator in getattr(node, "decorator_list", []):
            lines.append(decorator.lineno)
        return lines

    def rewrite(body, module_level=False):
        out, head = [], 0
        # A docstring (and, for a module, `from __future__` imports) must stay first.
        while head < len(body) and (
            (head == 0 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str))
            or (module_level and isinstance(body[head], ast.ImportFrom) and body[head].module == "__future__")
        ):
            out.append(body[head])
            head += 1
        out.extend(call(line) for node in body[:head] for line in lines_of(node))
        for node in body[head:]:
            out.extend(call(line) for line in lines_of(node))
            out.append(node)
        return out

    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(node, field, rewrite(block, module_level=node is tree))
    ast.fix_missing_locations(tree)


def pytest_arguments():
    args = [
        "-q",
        "-p", "no:cacheprovider",
        "--color=no",
        "--tb=short",
        "--junitxml", os.path.join(OUT, "junit.xml"),
        # A module that cannot be collected is one error; the others' tests still run and are judged.
        "--continue-on-collection-errors",
        "-o", "junit_family=xunit1",
        "-o", "junit_logging=no",
    ]
    if not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        # The project's own plugins load; two of them would fight the validator: pytest-cov starts a second
        # coverage.py (one tracer per thread), pytest-xdist runs the tests in other processes we cannot see.
        from importlib.util import find_spec

        if find_spec("pytest_cov") is not None:
            args.append("--no-cov")
        if find_spec("xdist") is not None:
            args += ["-n", "0"]
    select = OPTIONS.get("select")
    if select:
        args += list(select)
    return args


def main():
    send_analysis()
    if OPTIONS.get("analyseOnly"):
        return

    # Import the code under test the way a project's own `pytest` run would find it: from the root, and
    # from src/ in a src layout.
    for extra in (os.path.join(ROOT, "src"), ROOT):
        if os.path.isdir(extra) and extra not in sys.path:
            sys.path.insert(0, extra)

    import pytest

    spec = OPTIONS.get("coverage", "project")
    contexts = bool(OPTIONS.get("contexts"))
    cov = None
    if spec != "off":
        # "project": every non-test Python file of the folder; else the files the host names.
        include = [path for path in PYTHON_FILES if not is_test_path(path)] if spec == "project" else spec.get("include", [])
        cov = LineRecorder(include, contexts)
        cov.install()
    progress = Progress(os.path.join(OUT, "progress"), cov if cov is not None and contexts else None)
    try:
        status = pytest.main(pytest_arguments(), plugins=[progress])
    finally:
        progress.handle.close()
    if cov is not None:
        cov.write_json(os.path.join(OUT, "coverage.json"))
    with open(os.path.join(OUT, "notes.json"), "w", encoding="utf-8") as handle:
        json.dump(NOTES, handle)
    sys.exit(int(status))


if __name__ == "__main__":
    main()
