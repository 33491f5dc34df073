#!/usr/bin/env bash
# ensure-podman.sh makes sure podman (to build the image) and the CA bundle
# (copied into it) are on this machine, installing Debian's packages with
# apt-get when missing and running as root. Exits non-zero with a message on
# stderr otherwise.
set -euo pipefail

log() { echo "ensure-podman: $*" >&2; }

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || missing+=(ca-certificates)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
	log "${missing[*]} missing and this is not root with apt-get;"
	log "install them (sudo apt-get install ${missing[*]}): make image needs them"
	exit 1
fi
log "installing ${missing[*]} with apt-get"
install() { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
if ! { install || { apt-get update >&2 && install; }; }; then
	log "apt-get install ${missing[*]} failed"
	exit 1
fi
