#!/usr/bin/env bash
# Installs the Debian packages the test suite drives (tshark, dig, kdig, NSD, BIND, Knot,
# Chromium and its WebDriver, curl, nginx, the ldns and Knot zone signers, Unbound as a
# validating resolver the tests run themselves), only those
# missing, so a second `make test` costs nothing; with
# arguments, those Debian packages instead (their command named like the package). Needs
# root or sudo.
set -euo pipefail
declare -A want=(
  [tshark]=tshark
  [dig]=bind9-dnsutils
  [kdig]=knot-dnsutils
  [nsd]=nsd
  [named]=bind9
  [knotd]=knot
  [chromium]=chromium
  [chromedriver]=chromium-driver
  [curl]=curl
  [nginx]=nginx-light
  [ldns-signzone]=ldnsutils
  [kzonesign]=knot-dnssecutils
  [dnssec-signzone]=bind9-utils
  [unbound]=unbound
)
missing=()
if [ $# -gt 0 ]; then
  # Named packages (make bench's peers): install those whose command is missing.
  for pkg in "$@"; do
    cmd=${pkg%-light}
    command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("$pkg")
  done
else
  for cmd in "${!want[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("${want[$cmd]}")
  done
fi
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
echo "installing Debian packages: ${missing[*]}"
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
# The tests run their own Unbound on loopback: the system's resolver service must not run.
if [[ " ${missing[*]} " == *" unbound "* ]] && command -v systemctl >/dev/null 2>&1; then
  $sudo systemctl disable --now unbound unbound-resolvconf >/dev/null 2>&1 || true
fi
