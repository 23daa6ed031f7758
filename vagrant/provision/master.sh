#!/usr/bin/env bash
# Provision the master of Bosun's Vagrant lab, as root: Bosun, etcd, the SSH key, the inventory.
#
#   master.sh [--repo DIR] [--shared DIR] --master NAME ADDRESS [--minion NAME ADDRESS POD_CIDR]...
#
# DIR of --repo (default /bosun) is Bosun's repository on the master; DIR of --shared (default
# /bosun-shared) is the folder every machine of the lab shares. Steps: install python3,
# python3-venv, etcd and ssh-keygen (only the missing ones) and start etcd; `./orchestrator.py
# setup` (Bosun's own packages and .venv); the master's SSH key pair in the shared folder, made
# once (the minions authorize its public half); inventory/vagrant.ini with every minion, its pod
# subnet and the known_hosts file the minions fill in; then check that Bosun reads it.
#
# Idempotent: each step looks first and says what it found; a second run changes nothing and
# ends with "nothing changed". Exit 2 for bad arguments, 1 for a failed step.
# Self-contained on purpose: Vagrant uploads this one file to the master.
set -euo pipefail

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive

readonly PACKAGES=(python3 python3-venv etcd-server etcd-client openssh-client)
readonly INVENTORY=inventory/vagrant.ini

repo=/bosun
shared=/bosun-shared
machines=()    # arguments for bosun.lab.vagrant: --master NAME ADDRESS --minion NAME ADDRESS CIDR...
changes=()

die_usage() {
  printf 'master.sh: %s\n' "$1" >&2
  printf 'usage: master.sh [--repo DIR] [--shared DIR] --master NAME ADDRESS [--minion NAME ADDRESS POD_CIDR]...\n' >&2
  exit 2
}

fail() {
  printf 'master: FAILED: %s\n' "$1" >&2
  exit 1
}

ok() { printf 'master: ok: %s\n' "$1"; }

changed() {
  changes+=("$1")
  printf 'master: changed: %s\n' "$1"
}

# Only the shape is checked here; bosun.lab.vagrant checks every name, address and subnet.
parse_args() {
  while (($# > 0)); do
    case $1 in
      --repo | --shared)
        (($# >= 2)) || die_usage "$1 needs a folder"
        [[ $2 == /* ]] || die_usage "$1 must be an absolute path, not $2"
        if [[ $1 == --repo ]]; then repo=$2; else shared=$2; fi
        shift 2
        ;;
      --master)
        (($# >= 3)) || die_usage "--master needs NAME ADDRESS"
        machines+=("$1" "$2" "$3")
        shift 3
        ;;
      --minion)
        (($# >= 4)) || die_usage "--minion needs NAME ADDRESS POD_CIDR"
        machines+=("$1" "$2" "$3" "$4")
        shift 4
        ;;
      -h | --help)
        sed -n '2,14s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
      *) die_usage "unexpected argument $1" ;;
    esac
  done
  [[ " ${machines[*]} " == *" --master "* ]] || die_usage "--master NAME ADDRESS is required"
  [[ " ${machines[*]} " == *" --minion "* ]] || die_usage "at least one --minion is required"
  [[ -x $repo/orchestrator.py ]] || die_usage "$repo/orchestrator.py not found: is --repo Bosun's repository?"
}

missing_packages() {
  local package status
  for package in "$@"; do
    # shellcheck disable=SC2016  # dpkg-query's own ${field} syntax, not the shell's
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    [[ $status == installed ]] || echo "$package"
  done
}

ensure_packages() {
  local missing
  mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
  if ((${#missing[@]} == 0)); then
    ok "packages ${PACKAGES[*]} are installed"
    return
  fi
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
  changed "installed ${missing[*]}"
}

# Debian's etcd-server serves on 127.0.0.1:2379; `serve --etcd http://127.0.0.1:2379` uses it.
ensure_etcd() {
  if [[ ! -d /run/systemd/system ]]; then
    ok "systemd is not running here: etcd not started"
  elif systemctl is-enabled --quiet etcd.service && systemctl is-active --quiet etcd.service; then
    ok "etcd is enabled and running"
  else
    systemctl enable --now --quiet etcd.service
    changed "enabled and started etcd"
  fi
}

# Bosun's own Debian packages and .venv; setup says itself what it found or did.
ensure_bosun() {
  (cd "$repo" && ./orchestrator.py setup) | sed 's/^/master: setup: /'
}

ensure_ssh_key() {
  local key=$shared/id_ed25519
  mkdir -p "$shared"
  if [[ ! -f $key ]]; then
    ssh-keygen -q -t ed25519 -N '' -C bosun-master -f "$key"
    changed "made the master's SSH key $key"
  elif [[ ! -s $key.pub ]]; then
    ssh-keygen -y -f "$key" >"$key.pub"
    changed "rewrote $key.pub from $key"
  else
    ok "the master's SSH key $key exists"
  fi
}

# The inventory as bosun.lab.vagrant renders it (standard library only: no .venv needed yet).
render_inventory() {
  PYTHONPATH=$repo/lib python3 -m bosun.lab.vagrant --shared "$shared" "${machines[@]}"
}

ensure_inventory() {
  local text=$1 file=$repo/$INVENTORY
  if [[ -f $file && $(<"$file") == "$text" ]]; then
    ok "$file is up to date"
    return
  fi
  printf '%s\n' "$text" >"$file.bosun-new"
  mv -f "$file.bosun-new" "$file"
  changed "wrote $file"
}

check_inventory() {
  local out
  out=$(cd "$repo" && ./orchestrator.py inventory -i "$INVENTORY" --list 2>&1) ||
    fail "Bosun cannot read $repo/$INVENTORY: $out"
  ok "Bosun reads $repo/$INVENTORY"
}

main() {
  local inventory
  parse_args "$@"
  ensure_packages
  inventory=$(render_inventory) || exit 2
  ensure_etcd
  ensure_bosun
  ensure_ssh_key
  ensure_inventory "$inventory"
  check_inventory
  if ((${#changes[@]} == 0)); then
    echo "master: nothing changed"
  else
    echo "master: ${#changes[@]} changes"
  fi
}

main "$@"
