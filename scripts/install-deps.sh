#!/usr/bin/env bash
# Installs every system package the EdgeFlow tests need, on Debian 12 (as root).
# Each package is listed with the reason it is needed. Idempotent.
set -euo pipefail

PKGS=(
  # --- foundation / agent ---
  mosquitto-clients   # mosquitto_pub/sub: the README's manual check and CLI interop tests
  mosquitto           # real external MQTT broker for integration tests (127.0.0.1 only)
  python3-paho-mqtt   # paho-mqtt (Python) client for the MQTT interop test (PyPI is unreachable)
  libsystemd-dev      # headers for the sd-notify addon (READY=1 / WATCHDOG=1 to systemd)
  pkg-config          # locating native libraries for node-gyp builds
  systemd-container   # systemd-nspawn: boots real systemd as PID 1 for the service tests
  openssl             # throwaway CA and client certificates for the MQTT TLS integration test
  curl                # the README's manual check (curl 127.0.0.1:8080/...)
  # --- node-tpm2 / attestation ---
  libtss2-dev         # tss2-esys/tctildr/mu/rc headers+libs: builds the optional node-tpm2 addon
  swtpm               # software TPM 2.0 (socket mode) for the attestation integration tests
  swtpm-tools         # swtpm_setup/swtpm_localca: EK certificates for the EK-chain tests
  tpm2-tools          # tpm2_createek/tpm2_checkquote: independent cross-checks in tests only
  # --- device-trees ---
  device-tree-compiler  # dtc -@ builds the overlays; fdtoverlay + fdtget validate them against base DTBs
  xz-utils              # unpacks linux-source-6.12.tar.xz (tegra234 and -@ rockchip bases for validation)
  cpp                   # preprocesses the kernel .dts sources (#include, dt-bindings macros) into bases
  # --- hal system tier ---
  qemu-system-x86     # qemu-system-x86_64 (TCG) boots Debian's amd64 kernel with gpio-sim and i2c-stub
  busybox-static      # static busybox: /init and the shell tools of the guest initramfs
  cpio                # packs the guest initramfs (newc)
  gcc-12              # compiles gpio-sim.ko out of tree with the compiler the Debian 12 kernel was built with
  make                # kbuild for the out-of-tree gpio-sim module
  libc6-dev           # host headers kbuild's helper programs and the module build expect
  libelf1             # runtime of objtool/modpost from the linux-kbuild package (apt-get download, not installed)
  libssl3             # runtime of sign-file/extract-cert from the same linux-kbuild package
  xz-utils            # unpacks gpio-sim.c/irq_sim.c from the linux-source tarball fetched with apt-get download
  # --- hal Firmata co-processor tests (LattePanda) ---
  libsimavr-dev       # simavr AVR emulator (libsimavr2 + headers): the rig, built at test time with gcc-12, runs real StandardFirmata
  # --- ota ---
  python3             # tarfile: the oracle of the tar reader's differential fuzz test (ota/test/tar)
  # --- packaging (packaging/, tests/system/package-*.sys.test.ts) ---
  dpkg-dev            # dpkg-buildpackage, dpkg-shlibdeps: the .deb packages are built with Debian's tools
  debhelper           # dh: systemd enable/start/restart, tmpfiles, sysusers, conffiles in the maintainer scripts
  lintian             # the packages' policy check (no errors allowed)
  crossbuild-essential-arm64  # aarch64-linux-gnu-gcc/g++/strip: native addons cross built for arm64
  libtss2-dev:arm64   # arm64 tss2 headers+libs (multiarch): node-tpm2 cross built for arm64
  libsystemd-dev:arm64  # arm64 libsystemd (multiarch): the sd-notify addon cross built for arm64
  libstdc++6:arm64    # arm64 C++ runtime: the arm64 Node runs the unit tests under qemu-user
  qemu-user-static    # runs arm64 binaries through binfmt_misc (arm64 rootfs, tests on arm64 Node)
  mmdebstrap          # Debian 12 root filesystems (amd64, arm64) the packages are installed into
  # --- edgeready ---
  chromium            # headless Chromium: edgeready report screenshots; the console's browser tests (playwright-core)
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (apt-get install)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The arm64 libraries above come from Debian's multiarch (the cross-building setup Debian documents).
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
fi
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  # Packages installed here must not start services (mosquitto would take :1883): a temporary
  # policy-rc.d answers 101 ("action forbidden") to invoke-rc.d. A broker that was already
  # installed and running (a gateway's own mosquitto) is never stopped: tests start their own.
  policy=/usr/sbin/policy-rc.d
  ours=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    ours=1
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ -n "$ours" ]; then
    rm -f "$policy"
    trap - EXIT
  fi
  # Not started, and not started at the next boot either if this run installed it.
  for p in "${missing[@]}"; do
    if [ "$p" = mosquitto ] && command -v systemctl >/dev/null 2>&1; then
      systemctl disable mosquitto >/dev/null 2>&1 || true
    fi
  done
fi
# promtool checks the /metrics exposition (tests/integration/metrics-promtool.int.test.ts).
bash "$(dirname "$0")/fetch-promtool.sh" >/dev/null
echo "install-deps.sh: system packages present"
