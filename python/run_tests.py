"""Run the tests under the working directory with pytest, measuring coverage with coverage.py.

Runs inside the sandbox. Writes into OUT (the first argument): ``junit.xml`` (pytest's per-test
results), ``coverage.json`` (coverage.py's report of the non-test files) and ``progress`` (the id of
each test as it starts, so that a run killed at its time limit still says which test hung).
Exits with pytest's status.
"""

import os
import sys

OUT = sys.argv[1]
ROOT = os.getcwd()
TEST_PATTERNS = ["*/test_*.py", "*/*_test.py", "*/conftest.py", "*/tests/*", "*/test/*"]

# Import the code under test the way a project's own `pytest` run would find it: from the root, and
# from src/ in a src layout.
for extra in (os.path.join(ROOT, "src"), ROOT):
    if os.path.isdir(extra) and extra not in sys.path:
        sys.path.insert(0, extra)

import coverage  # noqa: E402
import pytest  # noqa: E402


class Progress:
    """Records each test as it starts."""

    def __init__(self, path):
        self.handle = open(path, "w", buffering=1, encoding="utf-8")

    def pytest_runtest_logstart(self, nodeid, location):
        self.handle.write(nodeid + "\n")


def main():
    cov = coverage.Coverage(
        data_file=None,
        source=[ROOT],
        omit=TEST_PATTERNS,
        config_file=False,
        messages=False,
    )
    progress = Progress(os.path.join(OUT, "progress"))
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
        cov.json_report(outfile=os.path.join(OUT, "coverage.json"), pretty_print=False)
    except coverage.exceptions.NoDataError:
        pass
    sys.exit(int(status))


if __name__ == "__main__":
    main()
