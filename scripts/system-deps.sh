#!/usr/bin/env bash
# Installs the Debian packages reshoot needs when they are missing (EGL + Mesa's
# llvmpipe for headless CPU rendering with moderngl; node and npm for the tests' glTF
# validator). Safe to run twice; does nothing when everything is present. Needs root
# (or sudo) only when something is missing.
set -euo pipefail
pkgs=(libegl1 libegl-mesa0 libgl1-mesa-dri)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm run the Khronos glTF validator in the tests (any recent node will do)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "system-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
