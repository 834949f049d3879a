#!/bin/sh
# Lays out the package in DEST (debian/edgeflow) from the release tree and the tool built by
# packaging/build-release.sh. Called by debian/rules (override_dh_auto_install).
set -eu
DEST=$1
: "${RELEASE_DIR:?}" "${TOOL_DIR:?}" "${REPO_DIR:?}" "${EDGEFLOW_VERSION:?}"
V=$EDGEFLOW_VERSION
rel=$DEST/opt/edgeflow/releases/$V

# The release, laid out exactly as the OTA installer manages it; `current` is not shipped: the OTA
# tool creates it in postinst (it owns it, see docs/install.md).
mkdir -p "$DEST/opt/edgeflow/releases"
cp -a "$RELEASE_DIR" "$rel"
node -e '
  const [file, version] = process.argv.slice(1);
  const b = JSON.parse(require("fs").readFileSync(file, "utf8"));
  require("fs").writeFileSync(file + ".new", JSON.stringify({ ...b, version }, null, 2) + "\n");
' "$rel/build.json" "$V"
mv "$rel/build.json.new" "$rel/build.json"
# The OTA tool outside every release, with its own runtime: a hard link to the release's (same
# bytes, stored once in the .deb and on disk), so OTA pruning or a bad release cannot break it.
cp -a "$TOOL_DIR" "$DEST/opt/edgeflow/tool"
ln -f "$rel/node/bin/node" "$DEST/opt/edgeflow/tool/node/bin/node"
# OTA public keys are configuration: /etc/edgeflow/keys, reached from the OTA root's keys dir.
mkdir -p "$DEST/etc/edgeflow/keys"
ln -s /etc/edgeflow/keys "$DEST/opt/edgeflow/keys"

mkdir -p "$DEST/usr/bin"
ln -s /opt/edgeflow/current/bin/edgeflow "$DEST/usr/bin/edgeflow"
ln -s /opt/edgeflow/current/bin/edgeready "$DEST/usr/bin/edgeready"

sd=$REPO_DIR/systemd
mkdir -p "$DEST/lib/systemd/system/edgeflow-agent.service.d"
for u in "$sd"/*.service "$sd"/*.timer "$sd"/*.path "$REPO_DIR/edgeready-suite/systemd/edgeready.service"; do
  install -m 0644 "$u" "$DEST/lib/systemd/system/"
done
for d in "$sd"/edgeflow-agent.service.d/*.conf; do
  install -m 0644 "$d" "$DEST/lib/systemd/system/edgeflow-agent.service.d/"
done
install -D -m 0644 "$sd/tmpfiles.d/edgeflow-ota.conf" "$DEST/usr/lib/tmpfiles.d/edgeflow-ota.conf"
doc=$DEST/usr/share/doc/edgeflow
install -D -m 0644 "$sd/edgeflow-agent.service.d/hardware.conf.example" "$doc/examples/hardware.conf"
install -D -m 0644 "$sd/mosquitto/edgeflow-gateway.conf" "$doc/examples/mosquitto-gateway.conf"

# The conffile: every key with its default, commented out, from the block of docs/configuration.md
# that a test keeps equal to the schema (so it cannot drift).
{
  echo "# EdgeFlow agent configuration (docs/configuration.md). Every key is shown with its default,"
  echo "# commented out: uncomment and change what you need, then: systemctl restart edgeflow-agent"
  echo "# This file is a conffile: apt keeps your edits on upgrade."
  echo
  awk '/^```yaml/ { if (!n++) f = 1; next } /^```/ { f = 0 } f' "$REPO_DIR/docs/configuration.md" |
    sed -e 's/^\(.\)/# \1/' -e 's/^# # /## /'
} >"$DEST/etc/edgeflow/config.yaml"
