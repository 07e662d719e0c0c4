#!/bin/sh
# The ctest entry point of check_modelines.js: installs Debian's nodejs,
# node-ajv and node-yaml when one is missing (scripts/setup.sh normally has),
# so the check runs on every machine instead of being skipped, then runs it
# with the given arguments.
set -eu

missing=""
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
[ -f /usr/share/nodejs/ajv/package.json ] || missing="$missing node-ajv"
[ -f /usr/share/nodejs/yaml/package.json ] || missing="$missing node-yaml"
if [ -n "$missing" ]; then
  echo "check_modelines: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  # A machine whose package lists are stale or absent needs an update first.
  # shellcheck disable=SC2086  # one word per package
  apt-get install -y -q --no-install-recommends $missing ||
    { apt-get update -q && apt-get install -y -q --no-install-recommends $missing; }
fi

exec node "$(dirname "$0")/check_modelines.js" "$@"
