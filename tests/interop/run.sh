#!/usr/bin/env bash
# Starts a Tearline node on loopback with one release and one partner, then
# runs the interop checks against it with real TAXII peers from PyPI; then
# the same client over HTTPS, with and without a client certificate.
# Usage: tests/interop/run.sh PYTHON TEARLINE
set -euo pipefail
py=$1
tl=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

"$tl" init "$work/node" --name "Interop node" >/dev/null
"$tl" --node "$work/node" release "$root/examples/embassy-warning.md" --to liaison -o "$work/liaison.md" 2>/dev/null
"$tl" --node "$work/node" partner add north --audience liaison > "$work/partner.txt"
user=north
password=$(awk '/password:/ {print $2}' "$work/partner.txt")
token=$(awk '/token:/ {print $2}' "$work/partner.txt")

"$tl" --node "$work/node" serve --listen 127.0.0.1:0 2> "$work/serve.log" &
server=$!
for _ in $(seq 50); do
  grep -q "TAXII 2.1 on" "$work/serve.log" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n 's#.*TAXII 2.1 on \(http://[^/]*\)/taxii2/.*#\1#p' "$work/serve.log")
[ -n "$url" ] || { cat "$work/serve.log"; echo "the server did not start"; exit 1; }

"$py" "$here/taxii2_client_check.py" "$url" "$user" "$password" "$token"

# tearline sync pulls from the OASIS reference server, medallion.
"$py" "$here/medallion_check.py" "$tl" "$work/medallion"

# taxii2-client over HTTPS: a node of its own, with certificates the check
# makes (Python's cryptography package), mutual TLS for a bound partner.
"$py" "$here/taxii2_client_tls_check.py" "$tl"
