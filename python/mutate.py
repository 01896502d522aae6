"""Code4Py's mutation tester: runs inside the sandbox, as ``python -I -c <this file> PLAN OUT``.

PLAN is a JSON file written by the host (src/validate/mutation/run-mutants.ts): the files and lines to
mutate, which tests ran each line (from coverage.py's contexts), those tests' durations, the budget, a
seed and how many mutants may run at once. OUT/mutants.jsonl gets one JSON record a line. The host may
start the run before PLAN exists (while the tests run): it then warms up and waits for PLAN, or for a
``cancel`` file beside it.

1. Makes mutants of the given lines with ``ast`` (never of docstrings, type hints, logging calls or
   ``__repr__``) and writes them, numbered, as one record.
2. Runs once, unmutated, the tests the mutants need (the baseline: they must pass here too, and their
   time gives each mutant's timeout).
3. Runs the mutants, as many at once as there are cores. This process is a fork server: it has imported
   pytest but none of the project's code, and forks one child per mutant. The child compiles the mutated
   module from the tree and serves it through an import hook, so the file on disk is never changed, then
   runs with ``-x`` only the tests that ran the mutant's line, fastest first. A child that outlives its
   timeout is killed with its whole process group. Each result is appended to OUT/mutants.jsonl as soon
   as it is known, so a run cut short still says what it found.
4. Stops starting mutants when the budget is spent, and stops those still running; the mutants are taken
   in a seeded random order that visits every line before a second mutant of any line, so a run cut short
   by the budget is a fair sample.
"""

import ast
import gc
import importlib.machinery
import importlib.util
import itertools
import json
import os
import random
import re
import select
import shutil
import signal
import sys
import tempfile
import time

PLAN_PATH, OUT = sys.argv[1], sys.argv[2]
ROOT = os.getcwd()
STARTED = time.monotonic()
LOG_NUMBERS = itertools.count()

# Exit status of a child whose harness (not the tests) failed: the mutant could not be compiled or served.
HARNESS_ERROR = 90
# pytest's exit status when every test passed: https://docs.pytest.org/en/stable/reference/exit-codes.html
PYTEST_PASSED = 0

COMPARE = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.In: ast.NotIn, ast.NotIn: ast.In,
}
# Comparisons whose mutant above is already the condition's negation.
NEGATING = (ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In, ast.NotIn)
ARITHMETIC = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult, ast.Mod: ast.Mult, ast.Pow: ast.Mult,
    ast.LShift: ast.RShift, ast.RShift: ast.LShift,
    ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd, ast.BitXor: ast.BitAnd,
}
LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
LOGGER = re.compile(r"^_*(log|logger|logging|getlogger\(\))$", re.IGNORECASE)
PRAGMA = re.compile(r"#\s*pragma:\s*no\s+mutate")
STRING_START = re.compile(r"[rRbBuU]{0,2}('''|\"\"\"|'|\")")


# ---- making mutants --------------------------------------------------------------------------------


class Mutant:
    """One change to one file's tree: ``slot`` (parent node, field, list index or None) gets ``new``."""

    def __init__(self, path, node, slot, new, operator, original, mutated, tests):
        self.path, self.slot, self.new = path, slot, new
        self.operator, self.original, self.mutated, self.tests = operator, original, mutated, tests
        self.line = node.lineno
        self.id = -1

    def record(self):
        return {"id": self.id, "path": self.path, "line": self.line, "operator": self.operator,
                "original": self.original, "mutated": self.mutated, "tests": len(self.tests)}


def dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return dotted(node.value) + "." + node.attr
    if isinstance(node, ast.Call):
        return dotted(node.func) + "()"
    return ""


def is_logging(call):
    """``logger.info(…)``, ``logging.warning(…)``, ``self._log.debug(…)``, ``getLogger().error(…)``, ``warnings.warn(…)``."""
    name = dotted(call.func)
    if name in ("warnings.warn", "warn"):
        return True
    receiver, _, method = name.rpartition(".")
    return method in LOG_METHODS and bool(LOGGER.match(receiver.rpartition(".")[2]))


def is_string(node):
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)))


def skipped_if(test):
    """``if __name__ == "__main__":`` (no test runs it) and ``if TYPE_CHECKING:`` (never runs)."""
    if isinstance(test, (ast.Name, ast.Attribute)) and dotted(test).endswith("TYPE_CHECKING"):
        return True
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators))


class Maker:
    """Walks one file's tree and makes the mutants of its target lines."""

    def __init__(self, path, source, targets, line_tests):
        self.path = path
        self.lines = source.split(b"\n")
        self.targets = targets  # set of line numbers, or None for every line
        self.line_tests = line_tests  # line number -> list of test indexes
        self.mutants = []

    # -- traversal

    def visit(self, node, parent, field, index, stmt, message):
        if isinstance(node, ast.stmt):
            stmt = node
            if self.skip_statement(node):
                return
        if isinstance(node, ast.Call) and is_logging(node):
            return
        if isinstance(node, ast.JoinedStr):
            return  # f-strings are text for people; their parts do not parse back cleanly before 3.12
        if isinstance(node, (ast.Raise, ast.Assert)):
            message = True
        self.mutate(node, (parent, field, index), stmt, message)
        for name, value in ast.iter_fields(node):
            if name in ("annotation", "returns", "type_comment", "type_params"):
                continue  # type hints
            if isinstance(value, list):
                for i, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        self.visit(child, node, name, i, stmt, message)
            elif isinstance(value, ast.AST):
                self.visit(value, node, name, None, stmt, message)

    def skip_statement(self, node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "__repr__":
            return True
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return True  # docstrings, and other bare strings that do nothing
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and is_logging(node.value):
            return True
        if isinstance(node, ast.If) and skipped_if(node.test):
            return True
        if type(node).__name__ == "TypeAlias":
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id.startswith("__") and t.id.endswith("__") for t in targets):
                return True  # __all__, __version__, __slots__: metadata, not behaviour
        return False

    # -- the operators

    def mutate(self, node, slot, stmt, message):
        if isinstance(node, (ast.If, ast.While, ast.IfExp)):
            self.negate(node.test, (node, "test", None), stmt)
        elif isinstance(node, ast.comprehension):
            for i, test in enumerate(node.ifs):
                self.negate(test, (node, "ifs", i), stmt)
        if not self.wanted(node):
            return
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                swap = COMPARE.get(type(op))
                if swap:
                    ops = list(node.ops)
                    ops[i] = swap()
                    self.add(node, slot, stmt, ast.Compare(left=node.left, ops=ops, comparators=node.comparators), "compare")
        elif isinstance(node, ast.BoolOp):
            other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            self.add(node, slot, stmt, ast.BoolOp(op=other, values=node.values), "boolean")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self.add(node, slot, stmt, node.operand, "boolean")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and not isinstance(node.operand, ast.Constant):
            self.add(node, slot, stmt, node.operand, "arithmetic")
        elif isinstance(node, ast.BinOp):
            swap = ARITHMETIC.get(type(node.op))
            if swap and not (is_string(node.left) or is_string(node.right)):
                self.add(node, slot, stmt, ast.BinOp(left=node.left, op=swap(), right=node.right), "arithmetic")
        elif isinstance(node, ast.AugAssign):
            swap = ARITHMETIC.get(type(node.op))
            if swap and not is_string(node.value):
                self.add(node, slot, stmt, ast.AugAssign(target=node.target, op=swap(), value=node.value), "arithmetic")
        elif isinstance(node, ast.Constant):
            self.constant(node, slot, stmt, message)
        elif isinstance(node, ast.Return):
            if node.value is not None and not isinstance(node.value, ast.Constant):
                self.add(node.value, (node, "value", None), stmt, ast.Constant(value=None), "return")
        elif isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await)):
            self.add(node, slot, stmt, ast.Pass(), "remove-call")
        elif isinstance(node, ast.Break):
            self.add(node, slot, stmt, ast.Continue(), "loop-control")
        elif isinstance(node, ast.Continue):
            self.add(node, slot, stmt, ast.Break(), "loop-control")

    def constant(self, node, slot, stmt, message):
        value = node.value
        if isinstance(value, bool):
            self.add(node, slot, stmt, ast.Constant(value=not value), "constant")
        elif isinstance(value, int):
            for new in (value + 1, value - 1):
                self.add(node, slot, stmt, ast.Constant(value=new), "constant")
        elif isinstance(value, float):
            self.add(node, slot, stmt, ast.Constant(value=value + 1), "constant")
        elif isinstance(value, (str, bytes)) and not message:
            marker = b"XX" if isinstance(value, bytes) else "XX"
            self.add(node, slot, stmt, ast.Constant(value=marker + value + marker), "constant", self.string_text(node))

    def negate(self, test, slot, stmt):
        if not self.wanted(test) or isinstance(test, ast.Constant):
            return  # a constant condition is the constant operator's
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return  # removing the `not` is the boolean operator's
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], NEGATING):
            return  # the compare operator's mutant is already the negation
        self.add(test, slot, stmt, ast.UnaryOp(op=ast.Not(), operand=test), "negate-condition")

    # -- bookkeeping

    def wanted(self, node):
        if not hasattr(node, "lineno"):
            return False
        lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)
        if self.targets is not None and not any(line in self.targets for line in lines):
            return False
        return not PRAGMA.search(self.text(node.lineno))

    def text(self, line):
        return self.lines[line - 1].decode("utf-8", "replace") if 0 < line <= len(self.lines) else ""

    def string_text(self, node):
        """A string's mutant as written in the source: `"abc"` becomes `"XXabcXX"`, quotes and escapes kept."""
        if node.lineno != node.end_lineno:
            return None
        segment = self.lines[node.lineno - 1][node.col_offset:node.end_col_offset].decode("utf-8", "replace")
        start = STRING_START.match(segment)
        if not start or not segment.endswith(start.group(1)):
            return None
        quote = start.group(1)
        return segment[:start.end()] + "XX" + segment[start.end():len(segment) - len(quote)] + "XX" + quote

    def add(self, node, slot, stmt, new, operator, text=None):
        first, last = self.lines[node.lineno - 1], self.lines[node.end_lineno - 1]
        before = first[:node.col_offset].decode("utf-8", "replace")
        after = last[node.end_col_offset:].decode("utf-8", "replace")
        replacement = text if text is not None else ast.unparse(new)
        original = " ".join(self.text(n).strip() for n in range(node.lineno, node.end_lineno + 1))
        tests = set()
        for line in (node.lineno, stmt.lineno if stmt is not None else node.lineno):
            tests.update(self.line_tests.get(line, ()))
        if not hasattr(new, "lineno"):
            ast.copy_location(new, node)  # a node made here; an existing one (a `not`'s operand) keeps its own
        mutant = Mutant(self.path, node, slot, new, operator,
                        shorten(original), shorten((before + replacement + after).strip()), sorted(tests))
        self.mutants.append(mutant)


def shorten(text, limit=200):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def make_mutants(plan):
    trees, mutants, notes = {}, [], []
    for entry in plan["files"]:
        path = entry["path"]
        try:
            with open(os.path.join(ROOT, path), "rb") as handle:
                source = handle.read()
            tree = ast.parse(source, filename=path)
        except (OSError, SyntaxError, ValueError) as error:
            notes.append({"kind": "note", "path": path, "message": "not mutated: %s" % error})
            continue
        targets = None if entry.get("lines") is None else set(entry["lines"])
        line_tests = {int(line): tests for line, tests in entry.get("tests", {}).items()}
        maker = Maker(path, source, targets, line_tests)
        maker.visit(tree, None, None, None, None, False)
        trees[path] = tree
        mutants.extend(maker.mutants)
    for number, mutant in enumerate(mutants):
        mutant.id = number
    return trees, mutants, notes


def run_order(mutants, seed):
    """A seeded shuffle that visits every line once before any line twice: a budget cut leaves a fair sample."""
    rng = random.Random(seed)
    by_line = {}
    for mutant in mutants:
        by_line.setdefault((mutant.path, mutant.line), []).append(mutant)
    groups = list(by_line.values())
    rng.shuffle(groups)
    for group in groups:
        rng.shuffle(group)
    order = []
    for depth in range(max((len(g) for g in groups), default=0)):
        order.extend(g[depth] for g in groups if depth < len(g))
    return order


# ---- running them ----------------------------------------------------------------------------------


class MutantFinder:
    """An import hook that serves the mutated module in place of the file on disk, whatever its name."""

    def __init__(self, origin, code):
        self.origin, self.code = origin, code
        base = os.path.basename(origin)
        self.stem = os.path.basename(os.path.dirname(origin)) if base == "__init__.py" else base[:-3]

    def find_spec(self, name, path=None, target=None):
        if name.rpartition(".")[2] != self.stem:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not spec.origin or os.path.realpath(spec.origin) != self.origin:
            return None
        return importlib.util.spec_from_file_location(
            name, spec.origin, loader=self, submodule_search_locations=spec.submodule_search_locations)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(self.code, module.__dict__)


def apply(mutant, trees):
    """In the child only: puts the mutant into its file's tree, compiles it and installs the import hook."""
    parent, field, index = mutant.slot
    if index is None:
        setattr(parent, field, mutant.new)
    else:
        getattr(parent, field)[index] = mutant.new
    origin = os.path.realpath(os.path.join(ROOT, mutant.path))
    code = compile(ast.fix_missing_locations(trees[mutant.path]), origin, "exec", dont_inherit=True)
    sys.meta_path.insert(0, MutantFinder(origin, code))


def pytest_args(test_ids):
    return ["-x", "-q", "-p", "no:cacheprovider", "--color=no", "--tb=no", "--rootdir", ROOT, *test_ids]


class Spec:
    """One child to run: a mutant (None for the unmutated baseline), its tests, its timeout, its name."""

    def __init__(self, mutant, test_ids, timeout, name, expected=0.0):
        self.mutant, self.test_ids, self.timeout, self.name = mutant, test_ids, timeout, name
        self.expected = expected  # the seconds its tests took in the tests stage


class Job:
    def __init__(self, spec, pid, pidfd, log):
        self.spec, self.pid, self.pidfd, self.log = spec, pid, pidfd, log
        self.started = time.monotonic()
        self.deadline = self.started + spec.timeout


def start(spec, trees, close_fds):
    """Forks the child that runs ``spec``. It leads a process group of its own, so that it can be killed with
    whatever it starts, and names itself ``mutant ID`` (what the host's /proc shows)."""
    log = "/tmp/code4py-mutant-%d.log" % next(LOG_NUMBERS)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = HARNESS_ERROR
        try:
            os.setpgid(0, 0)
            for fd in close_fds:
                os.close(fd)
            with open("/proc/self/comm", "w") as comm:
                comm.write(("mutant " + spec.name)[:15])
            out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.close(out)
            if spec.mutant is not None:
                apply(spec.mutant, trees)
            import pytest

            status = int(pytest.main(pytest_args(spec.test_ids)))
        except BaseException:  # noqa: BLE001 - whatever happened, the child must not return into the server
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    try:
        os.setpgid(pid, pid)  # also set by the child; whichever runs first wins the race
    except OSError:
        pass
    return Job(spec, pid, os.pidfd_open(pid), log)


def finish(job, killed):
    """Reaps a child (killing it and its process group first if asked), and says how it ended."""
    try:
        # The child's whole process group: on a timeout the child itself, and always whatever it left behind.
        os.killpg(job.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _, status = os.waitpid(job.pid, 0)
    os.close(job.pidfd)
    seconds = time.monotonic() - job.started
    tail = ""
    try:
        with open(job.log, "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - 2000))
            tail = handle.read().decode("utf-8", "replace")
        os.unlink(job.log)
    except OSError:
        pass
    if killed:
        return "timedOut", seconds, tail
    if os.WIFSIGNALED(status):
        return "killed", seconds, tail  # the mutant crashed the interpreter: the tests noticed
    code = os.WEXITSTATUS(status)
    if code == PYTEST_PASSED:
        return "survived", seconds, tail
    if code == HARNESS_ERROR:
        return "error", seconds, tail
    # The same tests passed in the baseline, under the same harness, so whatever else stopped them is the
    # mutant's doing: a failure (1), a collection error (2), a conftest that no longer imports (4), ...
    return "killed", seconds, tail


def run_all(specs, workers, trees, budget_end, close_fds):
    """Runs the specs, ``workers`` children at a time, and yields ``(spec, status, seconds, output)`` as each
    ends; status is None for a child stopped because the budget ran out. No child is started past the budget."""
    specs = iter(specs)
    running = {}
    poller = select.poll()
    exhausted = False
    while True:
        while not exhausted and len(running) < workers and time.monotonic() < budget_end:
            spec = next(specs, None)
            if spec is None:
                exhausted = True
                break
            job = start(spec, trees, close_fds)
            running[job.pidfd] = job
            poller.register(job.pidfd, select.POLLIN)
        if not running:
            return
        wake = min(min(j.deadline for j in running.values()), budget_end)
        ready = poller.poll(max(0, int((wake - time.monotonic()) * 1000) + 1))
        ended = [(fd, False) for fd, _ in ready]
        now = time.monotonic()
        ended += [(fd, True) for fd, job in running.items() if fd not in dict(ready) and (now >= job.deadline or now >= budget_end)]
        for fd, killed in ended:
            job = running.pop(fd)
            poller.unregister(fd)
            status, seconds, output = finish(job, killed)
            cut = killed and now < job.deadline  # killed for the budget, not for its own timeout
            yield job.spec, None if cut else status, seconds, output


class Output:
    def __init__(self, path):
        self.handle = open(path, "w", buffering=1, encoding="utf-8")

    def write(self, record):
        self.handle.write(json.dumps(record, separators=(",", ":")) + "\n")


def duration(plan, test):
    seconds = plan["durations"]
    return seconds[test] if 0 <= test < len(seconds) else 0.0


def durations_of(plan, tests):
    return sum(duration(plan, t) for t in tests)


def workers_of(plan):
    return max(1, min(int(plan.get("workers", 1)), len(os.sched_getaffinity(0))))


def run_baseline(plan, trees, mutants, output, budget_end):
    """The tests the mutants need, unmutated and split among the workers: they must pass here as they did
    in the tests stage. Returns whether they did, and the time a child takes beyond its tests' own."""
    needed = sorted({t for m in mutants for t in m.tests}, key=lambda t: -duration(plan, t))
    shares = [[] for _ in range(min(workers_of(plan), len(needed)))]
    for test in needed:  # longest first, each to the least loaded share (the shorter one, on a tie)
        min(shares, key=lambda share: (durations_of(plan, share), len(share))).append(test)
    specs = []
    # A share left empty must not run: pytest given no test ids would run the project's whole suite.
    for share in (share for share in shares if share):
        expected = durations_of(plan, share)
        specs.append(Spec(None, [plan["tests"][t] for t in share], max(10.0, 3.0 + 4.0 * expected), "baseline", expected))
    ended = list(run_all(specs, len(specs), trees, budget_end, [output.handle.fileno()]))
    failed = [(status, out) for _, status, _, out in ended if status != "survived"]
    overhead = max((seconds - spec.expected for spec, _, seconds, _ in ended), default=0.0)
    status = "passed" if not failed else ("timedOut" if failed[0][0] in ("timedOut", None) else "failed")
    output.write({"kind": "baseline", "status": status, "seconds": round(max((e[2] for e in ended), default=0.0), 3),
                  "tests": len(needed), "output": failed[0][1][-1500:] if failed else ""})
    return not failed, max(0.0, overhead)


def mutant_specs(plan, order, overhead):
    for mutant in order:
        tests = sorted(mutant.tests, key=lambda t: duration(plan, t))  # fastest first: -x stops at the first failure
        timeout = 2.0 + 4.0 * (overhead + durations_of(plan, tests))
        yield Spec(mutant, [plan["tests"][t] for t in tests], timeout, str(mutant.id))


def run_mutants(plan, trees, order, output, overhead, budget_end):
    ran = 0
    for spec, status, seconds, _ in run_all(mutant_specs(plan, order, overhead), workers_of(plan), trees, budget_end, [output.handle.fileno()]):
        if status is not None:
            ran += 1
            output.write({"kind": "result", "id": spec.mutant.id, "status": status, "seconds": round(seconds, 3)})
    return "budget" if ran < len(order) else None


def prepare_fork_server():
    """What every child would otherwise do again: import pytest, its plugins and what they import lazily.
    A session on an empty folder does the last; none of the project's code is imported."""
    import pytest
    import _pytest.config

    for name in _pytest.config.default_plugins:
        try:
            importlib.import_module("_pytest." + name)
        except ImportError:
            pass
    if not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        # The environment's own pytest plugins (installed packages, not the code under test).
        from importlib.metadata import entry_points

        for entry in entry_points(group="pytest11"):
            try:
                entry.load()
            except Exception:  # noqa: BLE001 - a broken plugin is pytest's to report, in the child
                pass
    empty = tempfile.mkdtemp(prefix="code4py-warm-")
    with open(os.path.join(empty, "pytest.ini"), "w") as ini:
        ini.write("[pytest]\n")
    saved = os.dup(1), os.dup(2)
    quiet = os.open(os.devnull, os.O_WRONLY)
    meta_path = list(sys.meta_path)
    try:
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", empty, "-c", os.path.join(empty, "pytest.ini"), empty])
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, quiet):
            os.close(fd)
        sys.meta_path[:] = meta_path
        shutil.rmtree(empty, ignore_errors=True)
    share_with_children()


def share_with_children():
    """Objects made so far are shared with every child; frozen, the collector leaves their pages unwritten.
    Objects frozen before are not collected again, so a second call costs only what is new."""
    gc.collect()
    gc.freeze()


def done(output, stopped):
    """The last record: why the run stopped early (if it did), its time, and the CPU time of it all."""
    cpu = os.times()
    output.write({"kind": "done", "stopped": stopped, "seconds": round(time.monotonic() - STARTED, 3),
                  "cpuSeconds": round(cpu.user + cpu.system + cpu.children_user + cpu.children_system, 3)})


def wait_for_plan():
    """The host may start this run before it knows the plan (while the tests still run), so that Python's
    start and the fork server's warm-up overlap them: the plan then arrives as a file, or a ``cancel``
    file says no mutant will be wanted. Returns the plan, or None when cancelled."""
    cancel = os.path.join(os.path.dirname(PLAN_PATH), "cancel")
    while True:
        if os.path.exists(PLAN_PATH):
            with open(PLAN_PATH, encoding="utf-8") as handle:
                return json.load(handle)
        if os.path.exists(cancel):
            return None
        time.sleep(0.005)


def main():
    global STARTED
    ready = os.path.exists(PLAN_PATH)
    if not ready:
        prepare_fork_server()
    plan = wait_for_plan()
    if plan is None:
        return
    # The budget counts from the plan's arrival: the time spent waiting for it belongs to the tests.
    STARTED = time.monotonic()
    budget_end = STARTED + float(plan.get("budgetSeconds", 30))
    output = Output(os.path.join(OUT, "mutants.jsonl"))
    # Import the code under test as the tests stage does: from the root, and from src/ in a src layout.
    for extra in (os.path.join(ROOT, "src"), ROOT):
        if os.path.isdir(extra) and extra not in sys.path:
            sys.path.insert(0, extra)
    trees, mutants, notes = make_mutants(plan)
    for note in notes:
        output.write(note)
    only = plan.get("only")
    if only is not None:
        wanted = set(only)
        mutants = [m for m in mutants if m.id in wanted]
    output.write({"kind": "mutants", "mutants": [m.record() for m in mutants]})
    covered = [m for m in mutants if m.tests]
    if plan.get("mode") == "list" or not covered:
        done(output, None)
        return

    if ready:
        prepare_fork_server()
    else:
        share_with_children()  # the plan, the parsed files and the mutants, made after the warm-up froze pytest's

    overhead = 0.5
    if plan.get("baseline", True):
        passed, overhead = run_baseline(plan, trees, covered, output, budget_end)
        if not passed:
            done(output, "baseline")
            return
    stopped = run_mutants(plan, trees, run_order(covered, plan.get("seed", 0)), output, overhead, budget_end)
    done(output, stopped)


if __name__ == "__main__":
    main()
