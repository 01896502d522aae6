#!/usr/bin/env bash
# Installs and configures a container engine for Code4Py's docker backend on a Debian or Ubuntu host, as
# root: Debian's podman (no daemon) with runc, podman-docker (a `docker` command that runs podman), and
# debootstrap (for sandbox/build-image.sh). Running it again changes nothing.
#
# The engine's settings go in a containers.conf drop-in, /etc/containers/containers.conf.d/code4py.conf:
#   runtime = "runc"             crun refuses hosts whose cgroups are mixed v1 and v2 ("hybrid")
#   cgroup_manager = "cgroupfs"  no systemd to ask for cgroups on such hosts
#   default_ulimits              podman's own defaults (about a million open files and processes) are
#                                above many hosts' hard limits, which a runtime without CAP_SYS_RESOURCE
#                                cannot raise: every container would fail to start. These are the host's own.
set -euo pipefail

say() { echo "setup-podman: $*" >&2; }
if [ "$(id -u)" != 0 ]; then say "run this as root"; exit 1; fi

need=()
for package in podman runc podman-docker debootstrap; do
  dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# podman holds its own process limit to pid_max, so a container may not ask for more.
processes=$(ulimit -Hu)
pid_max=$(cat /proc/sys/kernel/pid_max)
if [ "$processes" = unlimited ] || [ "$processes" -gt "$pid_max" ]; then processes=$pid_max; fi
open_files=$(ulimit -Hn)
if [ "$open_files" = unlimited ] || [ "$open_files" -gt 1048576 ]; then open_files=1048576; fi

mkdir -p /etc/containers/containers.conf.d
conf=/etc/containers/containers.conf.d/code4py.conf
cat >"$conf.tmp" <<EOF
# Written by Code4Py's sandbox/setup-podman.sh.
[containers]
default_ulimits = ["nproc=$processes:$processes", "nofile=$open_files:$open_files"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
mv "$conf.tmp" "$conf"
# podman-docker's `docker` prints a notice on every call unless this file exists.
touch /etc/containers/nodocker

version=$(podman version --format '{{.Server.Version}}')
say "podman $version with $(podman info --format '{{.Host.OCIRuntime.Name}}'), limits nproc=$processes nofile=$open_files ($conf)"
