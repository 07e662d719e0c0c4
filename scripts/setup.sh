#!/usr/bin/env bash
# Installs every build and test dependency on a fresh Debian machine (run as root).
# Idempotent: packages already present are left as they are.
set -euo pipefail

PACKAGES=(
  # build
  cmake g++ make pkg-config ccache
  libboost-dev libboost-program-options-dev libboost-system-dev
  rapidjson-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libssl-dev libpcre2-dev
  libgtest-dev libgmock-dev prometheus-cpp-dev
  # data plane and the real engine for tests
  nginx-light libnginx-mod-stream haproxy docker.io containerd runc
  # e2e harness: namespaces, veths, certificates, load, monitoring
  iproute2 iptables util-linux procps openssl curl busybox-static wrk prometheus
  ca-certificates python3
  # browser test of the status page
  chromium
  # the samples' schema modelines checked by an independent validator
  # (crds/check_modelines.js)
  nodejs node-ajv node-yaml
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # policy-rc.d keeps package scripts from starting system-wide daemons
  # (dockerd, nginx, prometheus): tests start their own on private paths.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
