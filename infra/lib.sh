# shellcheck shell=bash
# Shared helpers for the infra scripts (sourced; callers set -euo pipefail).
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

[ "$(id -u)" = 0 ] || { echo "infra scripts must run as root" >&2; exit 1; }
install -d -m 755 "$BILLING_INFRA_DIR"

apt_install() {
  # Without a policy-rc.d the packages' postinst would start default instances (5432, 6379).
  local policy=/usr/sbin/policy-rc.d added='' rc=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; added=1; fi
  export DEBIAN_FRONTEND=noninteractive
  # Skip the ~4 s update when the lists are fresh (up.sh installs one package after another).
  find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -60 -print -quit | grep -q . || apt-get update -q || rc=$?
  [ $rc != 0 ] || apt-get install -y -q --no-install-recommends "$@" || rc=$?
  [ -z "$added" ] || rm -f "$policy"
  return $rc
}

port_open() { timeout 1 bash -c ": </dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Pids of processes listening on TCP port $1 (via /proc: no ss/lsof on minimal images).
listener_pids() {
  local inode
  for inode in $(awk -v p="$(printf ':%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
    find /proc/[0-9]*/fd -lname "socket:\[$inode\]" 2>/dev/null | cut -d/ -f3
  done | sort -u
}
