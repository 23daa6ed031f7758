#!/usr/bin/env bash
# Provision one minion of Bosun's Vagrant lab, as root: make it a host Bosun can drive.
#
#   minion.sh [--shared DIR] NAME ADDRESS POD_CIDR [--peer ADDRESS POD_CIDR]...
#
# NAME, ADDRESS and POD_CIDR are this minion's; each --peer is another minion's address and pod
# subnet. DIR (default /bosun-shared) holds the master's id_ed25519.pub, which is authorized for
# root, and the lab's known_hosts, to which this host's SSH key is added.
#
# Steps: install docker.io, haproxy, socat (for haproxy's runtime API), iptables and python3
# (only the missing ones); let root log in with a key if sshd does not; authorize the master's
# key where sshd reads root's keys; Docker's bridge on the pod subnet (daemon.json "bip", Docker
# restarted only when docker0 does not already carry the address); IP forwarding; routes to the
# peers' pod subnets and forwarding into this one, kept across reboots by a systemd unit;
# Debian's haproxy service stopped (Bosun runs its own haproxy); this host's SSH key recorded.
#
# Idempotent: each step looks first and says what it found; a second run changes nothing and
# ends with "nothing changed". Exit 2 for bad arguments (nothing touched), 1 for a failed step.
# Self-contained on purpose: Vagrant uploads this one file to the minion.
set -euo pipefail

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive

readonly PACKAGES=(docker.io haproxy socat iptables python3)
readonly DAEMON_JSON=/etc/docker/daemon.json
readonly SYSCTL_FILE=/etc/sysctl.d/60-bosun.conf
readonly UNIT_NAME=bosun-pod-network.service
readonly UNIT_FILE=/etc/systemd/system/$UNIT_NAME
readonly HOST_KEY=/etc/ssh/ssh_host_ed25519_key.pub
readonly SSHD_DROP_IN=/etc/ssh/sshd_config.d/60-bosun.conf

readonly OCTET='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
readonly IPV4_RE="^$OCTET(\\.$OCTET){3}\$"
readonly CIDR_RE="^$OCTET(\\.$OCTET){3}/(3[0-2]|[12]?[0-9])\$"
readonly NAME_RE='^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'

shared=/bosun-shared
name=
address=
pod_cidr=
peers=()    # address, pod subnet, address, pod subnet, ...
changes=()
wrote=no    # set by write_if_changed

usage() {
  sed -n '2,8s/^# \{0,1\}//p' "$0"
}

die_usage() {
  printf 'minion.sh: %s\n' "$1" >&2
  printf 'usage: minion.sh [--shared DIR] NAME ADDRESS POD_CIDR [--peer ADDRESS POD_CIDR]...\n' >&2
  exit 2
}

fail() {
  printf '%s: FAILED: %s\n' "$name" "$1" >&2
  exit 1
}

ok() { printf '%s: ok: %s\n' "$name" "$1"; }

changed() {
  changes+=("$1")
  printf '%s: changed: %s\n' "$name" "$1"
}

# -- arguments --------------------------------------------------------------------------------

ip_to_int() {
  local IFS=. a b c d
  read -r a b c d <<<"$1"
  echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

int_to_ip() {
  echo "$(($1 >> 24 & 255)).$(($1 >> 16 & 255)).$(($1 >> 8 & 255)).$(($1 & 255))"
}

# A network written by its first address (10.244.1.0/24, not 10.244.1.5/24), /30 or larger.
check_subnet() {
  local what=$1 cidr=$2 network bits mask
  [[ $cidr =~ $CIDR_RE ]] || die_usage "$what: $cidr is not an IPv4 network like 10.244.1.0/24"
  network=$(ip_to_int "${cidr%/*}")
  bits=${cidr#*/}
  mask=$(((0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF))
  ((bits <= 30 && (network & mask) == network)) ||
    die_usage "$what: $cidr must be a /30 or larger network written by its first address"
}

check_address() {
  [[ $2 =~ $IPV4_RE ]] || die_usage "$1: $2 is not an IPv4 address"
}

parse_args() {
  local positional=()
  while (($# > 0)); do
    case $1 in
      --shared)
        (($# >= 2)) || die_usage "--shared needs a folder"
        shared=$2
        shift 2
        ;;
      --peer)
        (($# >= 3)) || die_usage "--peer needs ADDRESS POD_CIDR"
        check_address "--peer" "$2"
        check_subnet "--peer $2" "$3"
        peers+=("$2" "$3")
        shift 3
        ;;
      -h | --help)
        usage
        exit 0
        ;;
      -*) die_usage "unknown option $1" ;;
      *)
        positional+=("$1")
        shift
        ;;
    esac
  done
  ((${#positional[@]} == 3)) || die_usage "expected NAME ADDRESS POD_CIDR, got ${#positional[@]} arguments"
  name=${positional[0]}
  address=${positional[1]}
  pod_cidr=${positional[2]}
  [[ $name =~ $NAME_RE ]] || die_usage "$name is not a host name (lower-case letters, digits, '-')"
  check_address "ADDRESS" "$address"
  check_subnet "POD_CIDR" "$pod_cidr"
  [[ $shared == /* ]] || die_usage "--shared must be an absolute path, not $shared"
}

# docker0's address: the pod subnet's first host, with the subnet's prefix (10.244.1.1/24).
bridge_address() {
  echo "$(int_to_ip $(($(ip_to_int "${pod_cidr%/*}") + 1)))/${pod_cidr#*/}"
}

# -- packages ---------------------------------------------------------------------------------

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

# -- the master's key -------------------------------------------------------------------------

# The effective value of one sshd setting (lower-case name), as `sshd -T` prints it.
sshd_setting() {
  local config
  config=$(sshd -T 2>&1) || fail "sshd -T could not read the sshd configuration: $config"
  awk -v key="$1" '$1 == key { print $2; exit }' <<<"$config"
}

# Bosun logs in as root with a key; Debian allows that by default, a box may not.
ensure_root_login() {
  local value
  value=$(sshd_setting permitrootlogin)
  case $value in
    yes | prohibit-password | without-password)
      ok "sshd lets root log in with a key (PermitRootLogin $value)"
      return
      ;;
  esac
  [[ -d /run/systemd/system ]] ||
    fail "sshd refuses root (PermitRootLogin $value) and systemd is not running: fix sshd by hand"
  write_if_changed "$SSHD_DROP_IN" 644 "PermitRootLogin prohibit-password"
  systemctl reload ssh.service
  value=$(sshd_setting permitrootlogin)
  [[ $value == prohibit-password || $value == without-password ]] ||
    fail "sshd still refuses root (PermitRootLogin $value): does sshd_config include $SSHD_DROP_IN?"
}

# Where this host's sshd looks for root's keys (its own AuthorizedKeysFile, first entry).
authorized_keys_file() {
  local file home
  file=$(sshd_setting authorizedkeysfile)
  [[ -n $file && $file != none ]] || fail "sshd reads no authorized keys file (AuthorizedKeysFile)"
  home=$(getent passwd root | cut -d: -f6)
  file=${file//%h/$home}
  file=${file//%u/root}
  file=${file//%U/0}
  [[ $file == /* ]] || file=$home/$file
  echo "$file"
}

# Append a line to a file, first ending the file's last line if it lacks its newline.
append_line() {
  local line=$1 file=$2
  if [[ -s $file && -n $(tail -c 1 "$file") ]]; then
    echo >>"$file"
  fi
  printf '%s\n' "$line" >>"$file"
}

ensure_master_key() {
  local public=$shared/id_ed25519.pub key_type key_blob file
  [[ -s $public ]] || fail "$public is missing: provision the master first (vagrant up master)"
  read -r key_type key_blob _ <"$public"
  [[ $key_type =~ ^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521))$ && $key_blob =~ ^[A-Za-z0-9+/]+=*$ ]] ||
    fail "$public does not hold an SSH public key"
  file=$(authorized_keys_file)
  if [[ -f $file ]] && grep -qF -- "$key_type $key_blob" "$file"; then
    ok "the master's key is authorized for root in $file"
    return
  fi
  if [[ ! -d ${file%/*} ]]; then
    install -d -m 700 "${file%/*}"
  fi
  append_line "$key_type $key_blob bosun-master" "$file"
  chmod 600 "$file"
  changed "authorized the master's key for root in $file"
}

# -- Docker's bridge --------------------------------------------------------------------------

daemon_json_bip() {
  [[ -f $DAEMON_JSON ]] || return 0
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("bip", ""))' "$DAEMON_JSON" ||
    fail "$DAEMON_JSON is not valid JSON"
}

# Set "bip" in daemon.json, keeping every other setting; replaced atomically.
write_daemon_json_bip() {
  mkdir -p "${DAEMON_JSON%/*}"
  python3 - "$DAEMON_JSON" "$1" <<'PYTHON'
import json, os, sys
path, bip = sys.argv[1:]
try:
    with open(path) as f:
        config = json.load(f)
except FileNotFoundError:
    config = {}
config["bip"] = bip
with open(path + ".bosun-new", "w") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
os.replace(path + ".bosun-new", path)
PYTHON
}

docker0_carries() {
  [[ " $(ip -4 -o addr show dev docker0 2>/dev/null) " == *" inet $1 "* ]]
}

# docker0 is removed between stop and start, so dockerd makes it afresh with the new address.
restart_docker() {
  local bip=$1 tries
  [[ -d /run/systemd/system ]] ||
    fail "docker0 does not carry $bip and systemd is not running: restart dockerd by hand"
  systemctl stop docker.service
  ip link delete docker0 2>/dev/null || true
  systemctl start docker.service
  for ((tries = 0; tries < 60; tries++)); do
    docker0_carries "$bip" && return 0
    sleep 0.5
  done
  fail "Docker restarted but docker0 does not carry $bip (see journalctl -u docker)"
}

ensure_docker_bridge() {
  local bip current
  bip=$(bridge_address)
  current=$(daemon_json_bip)
  if [[ $current == "$bip" ]]; then
    ok "$DAEMON_JSON sets bip $bip"
  else
    write_daemon_json_bip "$bip"
    changed "set bip $bip in $DAEMON_JSON"
  fi
  # Also when daemon.json was right already: a Docker that did not pick it up is restarted.
  if docker0_carries "$bip"; then
    ok "docker0 carries $bip: Docker not restarted"
  else
    restart_docker "$bip"
    changed "restarted Docker: docker0 now carries $bip"
  fi
}

# -- pod network: forwarding, routes, and a unit that restores them at boot -------------------

ensure_ip_forward() {
  if [[ $(sysctl -n net.ipv4.ip_forward) == 1 ]]; then
    ok "IP forwarding is on"
  else
    sysctl -q -w net.ipv4.ip_forward=1
    changed "turned IP forwarding on"
  fi
  write_if_changed "$SYSCTL_FILE" 644 "net.ipv4.ip_forward = 1"
}

ensure_routes() {
  local i via cidr route
  for ((i = 0; i < ${#peers[@]}; i += 2)); do
    via=${peers[i]}
    cidr=${peers[i + 1]}
    route=$(ip -4 route show exact "$cidr")
    if [[ " $route " == *" via $via "* ]]; then
      ok "route to $cidr via $via"
    else
      ip route replace "$cidr" via "$via"
      changed "route to $cidr via $via"
    fi
  done
}

# Docker drops forwarded packets into docker0 unless they answer a connection from inside, so
# pods (and haproxy on the other minions) could not reach this minion's pods without this rule.
ensure_forward_rule() {
  local rule=(DOCKER-USER -d "$pod_cidr" -j ACCEPT)
  if iptables -C "${rule[@]}" 2>/dev/null; then
    ok "forwarding into $pod_cidr accepted"
  else
    iptables -I "${rule[@]}"
    changed "accept forwarding into $pod_cidr (iptables DOCKER-USER)"
  fi
}

# The same routes and rule at every boot, once the network and Docker are up. Values were checked
# above; the unit runs each command directly (no shell).
render_unit() {
  local ip_cmd iptables_cmd i
  ip_cmd=$(command -v ip)
  iptables_cmd=$(command -v iptables)
  printf '%s\n' "# Written by Bosun's vagrant/provision/minion.sh for $name." \
    "[Unit]" \
    "Description=Bosun pod network: routes to the other minions' pod subnets, forwarding into $pod_cidr" \
    "Wants=network-online.target" \
    "After=network-online.target docker.service" \
    "" \
    "[Service]" \
    "Type=oneshot" \
    "RemainAfterExit=yes"
  for ((i = 0; i < ${#peers[@]}; i += 2)); do
    echo "ExecStart=$ip_cmd route replace ${peers[i + 1]} via ${peers[i]}"
  done
  echo "ExecStart=-$iptables_cmd -D DOCKER-USER -d $pod_cidr -j ACCEPT"
  echo "ExecStart=$iptables_cmd -I DOCKER-USER -d $pod_cidr -j ACCEPT"
  printf '%s\n' "" "[Install]" "WantedBy=multi-user.target"
}

ensure_boot_unit() {
  local unit
  unit=$(render_unit)
  write_if_changed "$UNIT_FILE" 644 "$unit"
  if [[ $wrote == yes && -d /run/systemd/system ]]; then
    systemctl daemon-reload
  fi
  if [[ ! -d /run/systemd/system ]]; then
    ok "systemd is not running here: $UNIT_NAME not enabled"
  elif systemctl is-enabled --quiet "$UNIT_NAME"; then
    ok "$UNIT_NAME is enabled"
  else
    systemctl enable --quiet "$UNIT_NAME"
    changed "enabled $UNIT_NAME"
  fi
}

# Write content (plus a newline) to file unless it holds exactly that; sets wrote=yes|no.
write_if_changed() {
  local file=$1 mode=$2 content=$3
  wrote=no
  if [[ -f $file && $(<"$file") == "$content" ]]; then
    ok "$file is up to date"
    return
  fi
  mkdir -p "${file%/*}"
  printf '%s\n' "$content" >"$file.bosun-new"
  chmod "$mode" "$file.bosun-new"
  mv -f "$file.bosun-new" "$file"
  wrote=yes
  changed "wrote $file"
}

# -- haproxy: Bosun starts its own (pid file /run/haproxy.pid), Debian's service must not ------

ensure_haproxy_service_off() {
  if [[ ! -d /run/systemd/system ]]; then
    ok "systemd is not running here: no haproxy service to stop"
  elif systemctl is-enabled --quiet haproxy.service || systemctl is-active --quiet haproxy.service; then
    systemctl disable --now --quiet haproxy.service
    changed "stopped and disabled Debian's haproxy service (Bosun runs haproxy itself)"
  else
    ok "Debian's haproxy service is off"
  fi
}

# -- this host's key, for the master's known_hosts --------------------------------------------

ensure_known_host() {
  local known=$shared/known_hosts key_type key_blob line kept
  [[ -s $HOST_KEY ]] || fail "$HOST_KEY is missing"
  read -r key_type key_blob _ <"$HOST_KEY"
  line="$address $key_type $key_blob"
  if [[ -f $known ]] && grep -qxF -- "$line" "$known"; then
    ok "host key of $address is in $known"
    return
  fi
  if [[ -f $known ]] && awk -v a="$address" '$1 == a { found = 1 } END { exit !found }' "$known"; then
    # This address was recorded with another key: the minion was rebuilt.
    kept=$(awk -v a="$address" '$1 != a' "$known")
    printf '%s' "${kept:+$kept$'\n'}" >"$known"
    changed "removed the old host key of $address from $known"
  fi
  append_line "$line" "$known"
  changed "recorded the host key of $address in $known"
}

# -- checks that Bosun will find what it needs ------------------------------------------------

check_tools() {
  local version
  version=$(docker version --format '{{.Server.Version}}') || fail "docker does not answer"
  ok "docker $version answers"
  haproxy -v >/dev/null || fail "haproxy does not run"
  socat -V >/dev/null || fail "socat does not run"
  iptables -V >/dev/null || fail "iptables does not run"
  ok "haproxy, socat and iptables run"
}

main() {
  parse_args "$@"
  if [[ $(uname -n) != "$name" ]]; then
    printf '%s: note: this host calls itself %s\n' "$name" "$(uname -n)"
  fi
  ensure_packages
  ensure_root_login
  ensure_master_key
  ensure_docker_bridge
  ensure_ip_forward
  ensure_routes
  ensure_forward_rule
  ensure_boot_unit
  ensure_haproxy_service_off
  ensure_known_host
  check_tools
  if ((${#changes[@]} == 0)); then
    echo "$name: nothing changed"
  else
    echo "$name: ${#changes[@]} changes"
  fi
}

main "$@"
