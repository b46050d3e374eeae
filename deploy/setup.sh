#!/usr/bin/env bash
# deploy/setup.sh: prepare this machine to run and test runnable.
#
# Shared by `make run`, `make test` and .ci/run. Idempotent and fast (well under
# 2 s) when everything is already in place. It:
#   1. installs the Debian packages docker.io, redis-server and busybox-static
#      (and make, which CI calls next, and sqlite3, which a black-box test uses
#      to corrupt a stored document) with apt-get, only where they are missing;
#   2. starts dockerd in the background when `docker info` does not answer;
#   3. builds the base image runnable/busybox:latest (FROM scratch + Debian's
#      static busybox, see deploy/base/busybox) when it is missing or stale.
# Nothing is pulled from a registry. redis-server is installed but not started:
# the tests start their own, and the server embeds miniredis by default.
#
# Where it cannot do a step itself (not root, no apt-get), it stops with the
# exact commands to run.
#
# Environment (all optional):
#   RUNNABLE_DOCKERD_LOG   where a dockerd started here logs (/tmp/runnable-dockerd.log)
#   RUNNABLE_DOCKERD_WAIT  seconds to wait for dockerd to answer (60)
#   RUNNABLE_BASE_IMAGE    base image tag (runnable/busybox:latest)
#   RUNNABLE_BUSYBOX       static busybox binary to copy in (/bin/busybox)
# Test hooks, to exercise the failure paths on a machine that has everything:
#   RUNNABLE_SETUP_UID      pretend to run as this uid (e.g. 1000)
#   RUNNABLE_SETUP_MISSING  pretend these packages are missing (space separated)
#   RUNNABLE_SETUP_NO_APT=1 pretend apt-get does not exist
#   RUNNABLE_SETUP_NO_DOCKERD=1 pretend dockerd does not answer
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE_IMAGE=${RUNNABLE_BASE_IMAGE:-runnable/busybox:latest}
BASE_CONTEXT="$ROOT/deploy/base/busybox"
BUSYBOX=${RUNNABLE_BUSYBOX:-/bin/busybox}
DOCKERD_LOG=${RUNNABLE_DOCKERD_LOG:-/tmp/runnable-dockerd.log}
DOCKERD_WAIT=${RUNNABLE_DOCKERD_WAIT:-60}
PACKAGES=(docker.io redis-server busybox-static make sqlite3)

say() { printf 'setup: %s\n' "$*" >&2; }

# stop prints a reason and the commands a person should run, then exits 1.
stop() {
	local reason=$1
	shift
	{
		printf '\nsetup: cannot continue: %s\n' "$reason"
		printf 'setup: run these commands, then run this script again:\n\n'
		local c
		for c in "$@"; do printf '    %s\n' "$c"; done
		printf '\n'
	} >&2
	exit 1
}

is_root() { [ "${RUNNABLE_SETUP_UID:-$(id -u)}" = 0 ]; }
have_apt() { [ "${RUNNABLE_SETUP_NO_APT:-}" != 1 ] && command -v apt-get >/dev/null 2>&1; }
sudo_prefix() { if is_root; then printf ''; else printf 'sudo '; fi; }

# pkg_missing NAME: true when the package (or an equivalent already on PATH) is absent.
pkg_missing() {
	case " ${RUNNABLE_SETUP_MISSING:-} " in *" $1 "*) return 0 ;; esac
	pkg_absent "$1"
}

pkg_absent() {
	local p=$1
	case $p in
	docker.io) command -v docker >/dev/null 2>&1 && command -v dockerd >/dev/null 2>&1 && return 1 ;;
	redis-server) command -v redis-server >/dev/null 2>&1 && return 1 ;;
	make) command -v make >/dev/null 2>&1 && return 1 ;;
	sqlite3) command -v sqlite3 >/dev/null 2>&1 && return 1 ;;
	busybox-static) [ -n "${RUNNABLE_BUSYBOX:-}" ] && [ -x "$BUSYBOX" ] && return 1 ;;
	esac
	local status
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" != "install ok installed" ]
}

# --- 1. packages -------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
	if pkg_missing "$p"; then missing+=("$p"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
	install_cmds=("$(sudo_prefix)apt-get update" "$(sudo_prefix)apt-get install -y --no-install-recommends ${missing[*]}")
	if ! have_apt; then
		stop "missing packages (${missing[*]}) and apt-get is not available (the Debian commands are below; elsewhere install the equivalent packages)" "${install_cmds[@]}"
	fi
	if ! is_root; then
		stop "missing packages (${missing[*]}) and not running as root" "${install_cmds[@]}"
	fi
	say "installing ${missing[*]} with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=120 update -q >/dev/null
	apt-get -o DPkg::Lock::Timeout=120 install -y -q --no-install-recommends "${missing[@]}" >/dev/null
	for p in "${missing[@]}"; do
		if pkg_absent "$p"; then stop "apt-get did not install $p" "${install_cmds[@]}"; fi
	done
fi

# --- 2. docker daemon --------------------------------------------------------
docker_answers() {
	[ "${RUNNABLE_SETUP_NO_DOCKERD:-}" != 1 ] && timeout 10 docker info >/dev/null 2>&1
}

if ! docker_answers; then
	sock=/var/run/docker.sock
	if ! is_root; then
		if [ -S "$sock" ] && ! [ -w "$sock" ]; then
			stop "dockerd runs but $(id -un) may not use $sock" \
				"sudo usermod -aG docker $(id -un)" \
				"newgrp docker    # or log out and in again"
		fi
		stop "the Docker daemon is not running and only root can start it" \
			"sudo sh -c 'nohup dockerd >$DOCKERD_LOG 2>&1 &'    # or: sudo systemctl start docker"
	fi
	if [ "${RUNNABLE_SETUP_NO_DOCKERD:-}" = 1 ]; then
		stop "the Docker daemon is not running (pretended by RUNNABLE_SETUP_NO_DOCKERD=1)" \
			"nohup dockerd >$DOCKERD_LOG 2>&1 &"
	fi
	if pgrep -x dockerd >/dev/null 2>&1; then
		say "dockerd is running but not answering yet; waiting"
	else
		say "starting dockerd (log: $DOCKERD_LOG)"
		# setsid: the daemon outlives this script and the make/CI process that ran it.
		setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
	fi
	for ((i = 0; i < DOCKERD_WAIT; i++)); do
		if docker_answers; then break; fi
		sleep 1
	done
	if ! docker_answers; then
		say "last lines of $DOCKERD_LOG:"
		tail -n 20 "$DOCKERD_LOG" >&2 || true
		stop "dockerd did not answer within ${DOCKERD_WAIT}s" \
			"dockerd    # in the foreground, to see why it fails"
	fi
	say "dockerd is up"
fi

# --- 3. base image -----------------------------------------------------------
if [ ! -x "$BUSYBOX" ]; then
	stop "no busybox at $BUSYBOX" "$(sudo_prefix)apt-get install -y busybox-static"
fi
# The label records what the image was built from, so a changed Dockerfile or
# busybox rebuilds it; otherwise an existing image is kept as is.
want_hash=$(cat "$BASE_CONTEXT"/Dockerfile "$BASE_CONTEXT"/passwd "$BASE_CONTEXT"/group "$BUSYBOX" | sha256sum | cut -c1-16)
have_hash=$(docker image inspect -f '{{index .Config.Labels "com.runnable.base.hash"}}' "$BASE_IMAGE" 2>/dev/null || true)
if [ "$have_hash" != "$want_hash" ]; then
	say "building $BASE_IMAGE from $BUSYBOX (no registry needed)"
	ctx=$(mktemp -d)
	trap 'rm -rf "$ctx"' EXIT
	cp "$BASE_CONTEXT"/Dockerfile "$BASE_CONTEXT"/passwd "$BASE_CONTEXT"/group "$ctx"/
	cp "$BUSYBOX" "$ctx"/busybox
	# The classic builder needs no BuildKit frontend image, so nothing is pulled.
	if ! out=$(DOCKER_BUILDKIT=0 docker build --pull=false -q \
		--label com.runnable.base=busybox --label "com.runnable.base.hash=$want_hash" \
		-t "$BASE_IMAGE" "$ctx" 2>&1); then
		printf '%s\n' "$out" >&2
		stop "docker build of $BASE_IMAGE failed (is $BUSYBOX a static binary? it comes from busybox-static)" \
			"$(sudo_prefix)apt-get install -y busybox-static"
	fi
	if ! docker run --rm --network none "$BASE_IMAGE" sh -c 'test "$(echo ok)" = ok' >/dev/null 2>&1; then
		stop "$BASE_IMAGE was built but cannot run sh (is $BUSYBOX static?)" \
			"$(sudo_prefix)apt-get install -y busybox-static"
	fi
	say "built $BASE_IMAGE"
fi

if ! command -v go >/dev/null 2>&1; then
	say "warning: go is not on PATH; make build/test/run need Go (see go.mod for the version)"
fi
