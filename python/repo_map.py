"""Code4Py's repository map: runs inside the sandbox, as ``python -I -c <this file> BUNDLE``.

BUNDLE holds the Python files, each as a line ``<path bytes> <content bytes>`` followed by the UTF-8 path
and the content (one file for the host to write instead of thousands). Parses each with Python's own
parser (nothing is imported or run), shared among forked workers, and prints one JSON object: for each
module its first docstring line and its top-level functions and classes, with signatures, first
docstring lines, and the methods of each class (one level). A file that does not parse is listed with
the reason and no symbols.
"""

import ast
import json
import os
import sys

# A default value or annotation can be any expression; long ones say little and cost many tokens.
MAX_SIGNATURE = 160
MAX_DOC = 120


def clip(text, limit):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_doc_line(node):
    try:
        doc = ast.get_docstring(node, clean=True)
    except Exception:
        return None
    if not doc:
        return None
    for line in doc.splitlines():
        if line.strip():
            return clip(line.strip(), MAX_DOC)
    return None


def function(node):
    returns = " -> " + ast.unparse(node.returns) if node.returns is not None else ""
    return {
        "kind": "async def" if isinstance(node, ast.AsyncFunctionDef) else "def",
        "name": node.name,
        "signature": clip("(" + ast.unparse(node.args) + ")" + returns, MAX_SIGNATURE),
        "doc": first_doc_line(node),
        "methods": [],
    }


def klass(node):
    bases = [ast.unparse(b) for b in node.bases] + [ast.unparse(k) for k in node.keywords]
    methods = [function(child) for child in node.body if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return {
        "kind": "class",
        "name": node.name,
        "signature": clip("(" + ", ".join(bases) + ")", MAX_SIGNATURE) if bases else "",
        "doc": first_doc_line(node),
        "methods": methods,
    }


def describe(relative, source):
    try:
        tree = ast.parse(source, filename=relative)
    except SyntaxError as error:
        return {"error": f"line {error.lineno or 1}: {error.msg}", "doc": None, "symbols": []}
    except (ValueError, RecursionError, MemoryError) as error:
        return {"error": type(error).__name__, "doc": None, "symbols": []}
    symbols = []
    try:
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                symbols.append(function(node))
            elif isinstance(node, ast.ClassDef):
                symbols.append(klass(node))
    except (RecursionError, MemoryError) as error:
        # ast.unparse recurses too; a pathological expression must not cost the whole map.
        return {"error": type(error).__name__, "doc": None, "symbols": []}
    return {"error": None, "doc": first_doc_line(tree), "symbols": symbols}


def read_bundle(path):
    with open(path, "rb") as handle:
        data = handle.read()
    files, at = [], 0
    while at < len(data):
        end = data.index(b"\n", at)
        name_size, size = (int(n) for n in data[at:end].split(b" "))
        name_end = end + 1 + name_size
        name = data[end + 1 : name_end].decode("utf-8", "replace")
        files.append((len(files), name, data[name_end : name_end + size]))
        at = name_end + size
    return files


def describe_all(files):
    return [[index, describe(name, source)] for index, name, source in files]


def in_workers(files, workers):
    """Parsing is CPU-bound: forked workers (plain pipes, no semaphores) share it, largest files first."""
    buckets = [[] for _ in range(workers)]
    loads = [0] * workers
    for item in sorted(files, key=lambda f: -len(f[2])):
        least = loads.index(min(loads))
        buckets[least].append(item)
        loads[least] += len(item[2])
    readers = []
    for bucket in buckets[1:]:
        try:
            read, write = os.pipe()
            pid = os.fork()
        except OSError:
            buckets[0].extend(bucket)  # no more processes allowed: the parent parses these itself
            continue
        if pid == 0:
            os.close(read)
            try:
                with os.fdopen(write, "w", encoding="utf-8") as out:
                    json.dump(describe_all(bucket), out, ensure_ascii=False)
            finally:
                os._exit(0)
        os.close(write)
        readers.append((pid, read, bucket))
    modules = describe_all(buckets[0])
    for pid, read, bucket in readers:
        with os.fdopen(read, "r", encoding="utf-8") as handle:
            text = handle.read()
        os.waitpid(pid, 0)
        try:
            modules.extend(json.loads(text))
        except ValueError:  # the worker died (memory, a limit): parse its share here
            modules.extend(describe_all(bucket))
    return modules


def main():
    files = read_bundle(sys.argv[1])
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    workers = max(1, min(cpus, 8, len(files) // 50))
    described = in_workers(files, workers) if workers > 1 else describe_all(files)
    # In the bundle's order, so the host pairs each result with its own path.
    modules = [module for _, module in sorted(described, key=lambda pair: pair[0])]
    json.dump({"modules": modules}, sys.stdout, ensure_ascii=False, separators=(",", ":"))


if __name__ == "__main__":
    main()
