"""Code4Py's environment driver: runs inside the install sandbox, as ``python -I -c <this file> SPEC``.

SPEC is a JSON object; its ``mode`` says what to do, and the answer is one JSON object written to file
descriptor 4 (a pipe to the host):

- ``probe``: which Python this is (version, platform, ABI) and whether pytest and coverage come with it.
- ``env``: makes a virtual environment at ``target`` (with the system site packages, without pip in it)
  and installs ``requirements`` into it with pip run from Debian's wheel; then runs the ``setup`` commands.
  Answers with the distributions the environment then offers, or with pip's words when it failed.
- ``layer``: installs the project at /work, editable and without its dependencies, into ``target`` (the
  run's own layer) and answers with the project's metadata (name, version, requirements for ``extras``).

The sandbox has no network interface but loopback. When ``proxy`` names a unix socket (the host's
allow-listing proxy, mounted in), a forwarder listens on a loopback port and bridges each connection to
it, and pip is told to use that port as its proxy. pip runs with ``--isolated`` and PIP_CONFIG_FILE set
to /dev/null, so no configuration file of the machine changes where it installs from. Index credentials,
when the operator gave some, are read from ``netrc`` (a file mounted for this run only) and handed to pip
in $HOME/.netrc, never on a command line.
"""

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import threading

CHANNEL = 4
SPEC = json.loads(sys.argv[1])
OUTPUT_TAIL = 12000


def answer(data):
    payload = json.dumps(data).encode("utf-8")
    view = memoryview(payload)
    while view:
        view = view[os.write(CHANNEL, view):]
    os.close(CHANNEL)


def tail(text):
    return text if len(text) <= OUTPUT_TAIL else "…" + text[-OUTPUT_TAIL:]


# --- the bridge from a loopback port to the host's proxy -------------------------------------------------


def pump(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def bridge(client, path):
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(path)
    except OSError:
        client.close()
        upstream.close()
        return
    back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    back.start()
    pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def start_forwarder(path):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def serve():
        while True:
            client, _ = listener.accept()
            threading.Thread(target=bridge, args=(client, path), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return "http://127.0.0.1:%d" % listener.getsockname()[1]


# --- pip ---------------------------------------------------------------------------------------------------


def pip_environment(proxy):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "TMPDIR": SPEC.get("tmp") or "/tmp",
        "PIP_CONFIG_FILE": os.devnull,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env[name] = proxy
    return env


def write_netrc():
    secret = SPEC.get("netrc")
    if secret and os.path.isfile(secret):
        home = os.environ.get("HOME", "/tmp")
        target = os.path.join(home, ".netrc")
        shutil.copyfile(secret, target)
        os.chmod(target, 0o600)


def pip_command(python, proxy):
    command = [
        python, os.path.join(SPEC["pip"], "pip"), "install",
        "--isolated", "--no-input", "--disable-pip-version-check", "--no-cache-dir",
        "--progress-bar", "off", "--no-warn-script-location", "--no-compile",
        "--index-url", SPEC["index"],
    ]
    for url in SPEC.get("extraIndex", []):
        command += ["--extra-index-url", url]
    for host in SPEC.get("trustedHosts", []):
        command += ["--trusted-host", host]
    if proxy:
        command += ["--proxy", proxy]
    if SPEC.get("onlyBinary", True):
        command += ["--only-binary", ":all:"]
    return command


def run(command, env, cwd="/"):
    done = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return done.returncode, done.stdout.decode("utf-8", "replace")


# --- what an environment offers -------------------------------------------------------------------------

LIST_DISTRIBUTIONS = r"""
import json, importlib.metadata as md
seen = {}
for dist in md.distributions():
    name = dist.metadata["Name"]
    if not name or name.lower() in seen:
        continue
    top = set()
    text = dist.read_text("top_level.txt")
    if text:
        top.update(line.strip() for line in text.splitlines() if line.strip())
    else:
        for item in dist.files or []:
            parts = str(item).split("/")
            first = parts[0]
            if first.startswith("..") or first.endswith((".dist-info", ".egg-info", ".pth", ".data")) or first == "__pycache__":
                continue
            if len(parts) > 1:
                top.add(first)
            elif first.endswith(".py"):
                top.add(first[:-3])
            elif ".cpython-" in first or first.endswith((".so", ".pyd")):
                top.add(first.split(".")[0])
    seen[name.lower()] = {"name": name, "version": dist.version, "top": sorted(t for t in top if t.isidentifier())}
print(json.dumps(sorted(seen.values(), key=lambda d: d["name"].lower())))
"""


def distributions(python):
    code, out = run([python, "-I", "-c", LIST_DISTRIBUTIONS], {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    if code != 0:
        return None
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


# --- modes -------------------------------------------------------------------------------------------------


def probe():
    import platform
    import sysconfig
    import importlib.util

    def version(name):
        if importlib.util.find_spec(name) is None:
            return None
        from importlib.metadata import version as v
        try:
            return v(name)
        except Exception:
            return "unknown"

    libc = platform.libc_ver()
    answer({
        "ok": True,
        "version": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": sysconfig.get_platform(),
        "soabi": sysconfig.get_config_var("SOABI") or "",
        "libc": "%s %s" % libc if libc[0] else "",
        "executable": os.path.realpath(sys.executable),
        "prefix": sys.base_prefix,
        "pytest": version("pytest"),
        "coverage": version("coverage"),
    })


def make_env():
    import venv

    target = SPEC["target"]
    venv.create(target, system_site_packages=True, with_pip=False, symlinks=True)
    python = os.path.join(target, "bin", "python")
    site = glob.glob(os.path.join(target, "lib", "python*", "site-packages"))[0]
    # The run's own layer (the project, editable) is a site folder of its own when it is mounted.
    layer = SPEC["layer"]
    with open(os.path.join(site, "_code4py_layer.pth"), "w") as handle:
        handle.write("import os, site; os.path.isdir(%r) and site.addsitedir(%r)\n" % (layer, layer))
    # `pip` inside the environment is Debian's wheel, for the setup commands and for people.
    pip = os.path.join(target, "bin", "pip")
    with open(pip, "w") as handle:
        handle.write('#!/bin/sh\nexec %s %s "$@"\n' % (python, os.path.join(SPEC.get("pipWheel") or SPEC["pip"], "pip")))
    os.chmod(pip, 0o755)
    return python


def environment_mode():
    write_netrc()
    proxy = start_forwarder(SPEC["proxy"]) if SPEC.get("proxy") else None
    python = make_env()
    env = pip_environment(proxy)
    if SPEC.get("requirements"):
        command = pip_command(python, proxy) + ["--requirement", SPEC["requirements"]]
        if SPEC.get("constraints"):
            command += ["--constraint", SPEC["constraints"]]
        code, out = run(command, env)
        if code != 0:
            answer({"ok": False, "step": "pip", "exitCode": code, "output": tail(out)})
            return
    setup_env = dict(env)
    setup_env.update({
        "PATH": os.path.join(SPEC["target"], "bin") + ":/usr/bin:/bin",
        "VIRTUAL_ENV": SPEC["target"],
        "PIP_INDEX_URL": SPEC["index"],
        "PIP_EXTRA_INDEX_URL": " ".join(SPEC.get("extraIndex", [])),
        "PIP_NO_CACHE_DIR": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    })
    if SPEC.get("onlyBinary", True):
        setup_env["PIP_ONLY_BINARY"] = ":all:"
    for command in SPEC.get("setup", []):
        code, out = run(["/bin/sh", "-c", command], setup_env, cwd="/work")
        if code != 0:
            answer({"ok": False, "step": "setup", "command": command, "exitCode": code, "output": tail(out)})
            return
    found = distributions(python)
    if found is None:
        answer({"ok": False, "step": "list", "exitCode": 1, "output": "the environment's distributions could not be listed"})
        return
    answer({"ok": True, "distributions": found})


def wanted(requirement, extras, markers):
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate(dict(markers, extra=extra)) for extra in [""] + list(extras))


def layer_mode():
    write_netrc()
    proxy = start_forwarder(SPEC["proxy"]) if SPEC.get("proxy") else None
    target = SPEC["target"]
    # Requires-Python is judged by the host (a warning), not by refusing the install.
    command = pip_command(sys.executable, proxy) + ["--no-deps", "--ignore-requires-python", "--target", target, "--editable", "/work"]
    code, out = run(command, pip_environment(proxy), cwd="/work")
    if code != 0:
        answer({"ok": False, "step": "pip", "exitCode": code, "output": tail(out)})
        return
    infos = glob.glob(os.path.join(target, "*.dist-info"))
    if len(infos) != 1:
        answer({"ok": False, "step": "metadata", "exitCode": 1, "output": "the editable install left %d metadata folders" % len(infos)})
        return
    sys.path.insert(0, SPEC["pip"])
    from email.parser import HeaderParser
    from pip._vendor.packaging.markers import default_environment
    from pip._vendor.packaging.requirements import InvalidRequirement, Requirement

    with open(os.path.join(infos[0], "METADATA"), encoding="utf-8") as handle:
        metadata = HeaderParser().parse(handle)
    markers = default_environment()
    requires = []
    for text in metadata.get_all("Requires-Dist") or []:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if wanted(requirement, SPEC.get("extras", []), markers):
            requirement.marker = None
            requires.append(str(requirement))
    answer({
        "ok": True,
        "name": metadata.get("Name"),
        "version": metadata.get("Version"),
        "requiresPython": metadata.get("Requires-Python"),
        "requires": requires,
    })


if __name__ == "__main__":
    try:
        {"probe": probe, "env": environment_mode, "layer": layer_mode}[SPEC["mode"]]()
    except Exception as error:  # the host must always get an answer it can read
        try:
            answer({"ok": False, "step": "driver", "exitCode": 1, "output": "%s: %s" % (type(error).__name__, error)})
        except OSError:
            pass
        sys.exit(1)
