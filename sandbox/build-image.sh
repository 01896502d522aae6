#!/usr/bin/env bash
# Builds the image of Code4Py's docker sandbox backend on this machine, from Debian's package archive,
# with no image registry: debootstrap makes a minimal Debian root filesystem holding Python, pytest,
# coverage.py, venv and Debian's pip/setuptools/wheel wheels (for the environment stage), and the engine
# imports it as an image. Nothing of the host goes in.
#
#   sandbox/build-image.sh            build the image unless it is there and current
#   sandbox/build-image.sh --force    build it again
#
# Settings (environment):
#   CODE4PY_DOCKER_IMAGE   the image's name, as the bot reads it (default code4py-sandbox)
#   CODE4PY_DOCKER_CLIENT  the engine's client (docker or podman); by default the first of them whose
#                          engine answers, as the bot chooses
#   DEBIAN_MIRROR          the Debian archive to bootstrap from (default: debootstrap's own)
#
# "Current" means the image carries the label code4py.recipe with this script's own hash: editing the
# recipe below (packages, suite, user) rebuilds it; running the script again does nothing.
# Needs root (debootstrap and chroot) and debootstrap (Debian/Ubuntu: apt-get install debootstrap).
set -euo pipefail

SUITE=bookworm
PACKAGES=python3,python3-pytest,python3-coverage,python3-venv,python3-pip-whl,python3-setuptools-whl,python3-wheel-whl
SANDBOX_UID=10001

image=${CODE4PY_DOCKER_IMAGE:-code4py-sandbox}
force=0
case "${1:-}" in
  --force) force=1 ;;
  '') ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

say() { echo "build-image: $*" >&2; }

pick_client() {
  if [ -n "${CODE4PY_DOCKER_CLIENT:-}" ]; then echo "$CODE4PY_DOCKER_CLIENT"; return; fi
  for candidate in docker podman; do
    if command -v "$candidate" >/dev/null && "$candidate" version --format '{{.Server.Version}}' >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
  say "no container engine answers (tried docker and podman): install one, e.g. apt-get install podman runc podman-docker"
  exit 1
}

client=$(pick_client)
recipe=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
have=$("$client" image inspect --format '{{index .Config.Labels "code4py.recipe"}}' "$image" 2>/dev/null || true)
if [ "$force" = 0 ] && [ "$have" = "$recipe" ]; then
  say "$image is current (recipe $recipe); nothing to do"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then say "debootstrap needs root: run this as root"; exit 1; fi
command -v debootstrap >/dev/null || { say "debootstrap is not installed: apt-get install debootstrap"; exit 1; }

started=$(date +%s)
rootfs=$(mktemp -d /var/tmp/code4py-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
say "bootstrapping Debian $SUITE with $PACKAGES (a few minutes)"
# shellcheck disable=SC2086 # the mirror is optional: no argument lets debootstrap use its default
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" ${DEBIAN_MIRROR:-} >"$rootfs.log" 2>&1; then
  tail -n 20 "$rootfs.log" >&2
  rm -f "$rootfs.log"
  say "debootstrap failed (above): check that Debian's archive is reachable, or set DEBIAN_MIRROR"
  exit 1
fi
rm -f "$rootfs.log"

# The run's user when the bot is root; any other uid works too (the bot passes its own).
chroot "$rootfs" groupadd --gid "$SANDBOX_UID" sandbox
chroot "$rootfs" useradd --uid "$SANDBOX_UID" --gid "$SANDBOX_UID" --home-dir /tmp --no-create-home --shell /usr/sbin/nologin sandbox
# The mount point of the run's tmpfs /work. Sticky and world-writable like /tmp, because podman copies a
# mount point's mode onto the tmpfs mounted there, and the run's uid is not known here.
mkdir -p "$rootfs/work"
chmod 1777 "$rootfs/work"
# No set-uid or set-gid program: runs have no-new-privileges already; this removes the means as well.
find "$rootfs" -xdev -type f -perm /6000 -exec chmod ug-s {} +
# What a sandbox never reads: package lists and caches, documentation, translations, logs.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
  "$rootfs"/var/log/*

say "importing it as $image"
tar --numeric-owner -C "$rootfs" -c . | "$client" import \
  --change "USER $SANDBOX_UID:$SANDBOX_UID" \
  --change "WORKDIR /work" \
  --change 'CMD ["/usr/bin/python3"]' \
  --change "LABEL code4py.recipe=$recipe" \
  - "$image" >/dev/null
have=$("$client" image inspect --format '{{index .Config.Labels "code4py.recipe"}}' "$image")
if [ "$have" != "$recipe" ]; then say "the imported image does not carry its recipe label ($have)"; exit 1; fi
say "built $image (recipe $recipe) in $(($(date +%s) - started)) s"
