#!/usr/bin/env bash
# ensure-chromium.sh prints the path of a headless-capable Chromium for the
# browser tests, on stdout and nothing else; diagnostics go to stderr. In order:
#   1. $VERIFY_TEST_CHROMIUM, if set and executable;
#   2. /usr/bin/chromium (Debian's chromium package), if present;
#   3. Debian's chromium package, installed with apt-get when running as root
#      (apt-get update first when the first install attempt fails).
# Exits non-zero with a message on stderr when none of these works.
#
# Usage: export VERIFY_TEST_CHROMIUM="$(test/ensure-chromium.sh)"
set -euo pipefail

log() { echo "ensure-chromium: $*" >&2; }

readonly debian_path=/usr/bin/chromium

if [[ -n ${VERIFY_TEST_CHROMIUM:-} ]]; then
	if [[ ! -x $VERIFY_TEST_CHROMIUM ]]; then
		log "\$VERIFY_TEST_CHROMIUM=$VERIFY_TEST_CHROMIUM is not an executable file"
		exit 1
	fi
	log "using \$VERIFY_TEST_CHROMIUM"
	echo "$VERIFY_TEST_CHROMIUM"
	exit 0
fi

if [[ -x $debian_path ]]; then
	echo "$debian_path"
	exit 0
fi

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
	log "$debian_path is missing and this is not root with apt-get;"
	log "install Debian's chromium package (apt-get install chromium) or set VERIFY_TEST_CHROMIUM"
	exit 1
fi

log "installing Debian's chromium package with apt-get (once per machine)"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get install -y chromium >&2 ||
	{ log "install failed; running apt-get update and trying again" &&
		apt-get update >&2 && apt-get install -y chromium >&2; }; }; then
	log "apt-get install chromium failed; install it by hand or set VERIFY_TEST_CHROMIUM"
	exit 1
fi

if [[ ! -x $debian_path ]]; then
	log "chromium installed but $debian_path is missing"
	exit 1
fi
log "installed $($debian_path --version 2>/dev/null || echo chromium)"
echo "$debian_path"
