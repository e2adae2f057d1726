#!/usr/bin/env bash
# cmake --install into a temporary prefix, then use it as a newcomer would, with the source and
# build trees out of reach (hidden under an empty tmpfs in a private mount namespace when `unshare`
# allows it; otherwise merely unused, which the outputs are checked for): `models`, `predict` and a
# `report` from the prefix, the prefix moved elsewhere, --data-dir / V4SIM_DATA_DIR, a private
# catalogue through --catalogue and V4SIM_PATH, a copied binary without its data (exit 2 and a
# clear message), the Python module from lib/python3/dist-packages, and find_package(v4sim).
# Usage: install_test.sh <build dir> <source dir>
set -euo pipefail
build=$(realpath "$1")
src=$(realpath "$2")
tmp=$(mktemp -d /tmp/v4sim-install-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
for f in bin/v4sim share/v4sim/models/deepseek-v4-pro.yaml share/v4sim/models/hf/deepseek-v4-pro/config.json \
  share/v4sim/hardware/accelerators/h200.yaml share/v4sim/hardware/systems/hgx-h200.yaml \
  share/v4sim/hardware/perf/README.md share/v4sim/scenarios/v4-vs-v32-long-context.yaml \
  include/v4sim/models/model_loader.h; do
  [ -e "$tmp/prefix/$f" ] || fail "not installed: $f"
done
[ -n "$(find "$tmp/prefix" -name v4simConfig.cmake)" ] || fail "no CMake package installed"
ls "$tmp"/prefix/share/v4sim/hardware/perf/*/ > /dev/null || fail "no measured kernel tables installed"

# Move the prefix: the binary finds its data relative to itself, not where it was installed.
mv "$tmp/prefix" "$tmp/moved"
prefix="$tmp/moved"

# Everything below runs with the trees hidden when possible.
hide=""
# As root a plain mount namespace will do (and works in a chroot, where user namespaces do not).
for flags in -m -rm; do
  if unshare $flags sh -c "mount -t tmpfs none '$src'" 2> /dev/null; then hide=$flags; break; fi
done
if [ -n "$hide" ]; then
  echo "install test: source tree $src hidden (private mount namespace, unshare $hide)"
else
  echo "install test: unshare not permitted here; the source tree stays reachable but must be unused"
fi
run() {  # run <shell commands>: in a bare environment, from $tmp, with the trees hidden if possible
  if [ -n "$hide" ]; then
    unshare $hide sh -c "mount -t tmpfs none '$src' && { mount -t tmpfs none '$build' 2>/dev/null; true; } && cd '$tmp' && $1"
  else
    (cd "$tmp" && sh -c "$1")
  fi
}
bare="env -i PATH=/usr/bin:/bin"
v="$prefix/bin/v4sim"

out=$(run "$bare $v models") || fail "models: $out"
echo "$out" | grep -q deepseek-v4-pro || fail "models lists no deepseek-v4-pro: $out"
out=$(run "$bare $v predict --model deepseek-v4-flash --system hgx-h200 --context 32k --batch 8 --format json") \
  || fail "predict: $out"
echo "$out" | grep -q '"feasible": *true' || fail "predict: $out"
echo "$out" | grep -q 'measured' || fail "predict from the prefix used no measured table: $out"
out=$(run "$bare $v report v4-vs-v32-long-context -o $tmp/report 2>&1") || fail "report: $out"
[ -s "$tmp/report/report.md" ] && [ -s "$tmp/report/report.html" ] || fail "report wrote no report.md/html"
! grep -q "$src" "$tmp/report/report.md" || fail "report.md names the source tree"
! grep -q "$prefix" "$tmp/report/report.md" || fail "report.md names this machine's install path"
out=$(run "$bare $v cost --model $prefix/share/v4sim/models/hf/deepseek-v3/config.json --context 4k") \
  || fail "HF config from the prefix: $out"

# --data-dir and V4SIM_DATA_DIR replace the data root.
cp -r "$prefix/share/v4sim" "$tmp/data"
sed -i 's/^display_name: .*/display_name: Relocated Flash/' "$tmp/data/models/deepseek-v4-flash.yaml"
out=$(run "$bare $v models --data-dir $tmp/data") || fail "--data-dir: $out"
echo "$out" | grep -q "Relocated Flash" || fail "--data-dir was not used: $out"
out=$(run "$bare V4SIM_DATA_DIR=$tmp/data $v models") || fail "V4SIM_DATA_DIR: $out"
echo "$out" | grep -q "Relocated Flash" || fail "V4SIM_DATA_DIR was not used: $out"
code=0; out=$(run "$bare $v models --data-dir $tmp/nowhere 2>&1") || code=$?
[ "$code" = 2 ] && echo "$out" | grep -q "not a v4sim data folder" || fail "bad --data-dir: $code $out"

# A company's private catalogue in front of the shipped one: a system of its own on a private
# accelerator with a kernel table of its own, and a model.
mkdir -p "$tmp/acme/hardware/accelerators" "$tmp/acme/hardware/systems" "$tmp/acme/models"
sed 's/^name: .*/name: acme-h200/' "$prefix/share/v4sim/hardware/accelerators/h200.yaml" \
  > "$tmp/acme/hardware/accelerators/acme-h200.yaml"
sed -e 's/^name: .*/name: acme-box/' -e 's/^accelerator: .*/accelerator: acme-h200/' \
  "$prefix/share/v4sim/hardware/systems/hgx-h200.yaml" > "$tmp/acme/hardware/systems/acme-box.yaml"
sed -e 's/^name: .*/name: acme-flash/' "$prefix/share/v4sim/models/deepseek-v4-flash.yaml" \
  > "$tmp/acme/models/acme-flash.yaml"
# One measured kernel table of its own: the accelerator's ops of that class are timed from it
# (efficiency source "measured"; without it they would be transferred from the shipped H200's).
mkdir -p "$tmp/acme/hardware/perf/acme-h200"
cp "$prefix"/share/v4sim/hardware/perf/h200/gemm-fp8.* "$tmp/acme/hardware/perf/acme-h200/"
out=$(run "$bare $v hardware acme-box --catalogue $tmp/acme") || fail "--catalogue hardware: $out"
out=$(run "$bare V4SIM_PATH=$tmp/acme $v predict --model acme-flash --system acme-box --context 32k --batch 8 --format json") \
  || fail "V4SIM_PATH predict: $out"
echo "$out" | python3 -c 'import json, sys; j = json.load(sys.stdin); sys.exit(not any(
  o["table"] == "gemm-fp8" and o["efficiency_source"] == "measured" for o in j["ops"]))' \
  || fail "the private accelerator's own kernel table was not used: $out"
out=$(run "$bare $v models --catalogue $tmp/acme") || fail "--catalogue models: $out"
echo "$out" | grep -q acme-flash && echo "$out" | grep -q deepseek-v4-pro || fail "catalogue not merged: $out"
code=0; out=$(run "$bare $v models --catalogue $tmp/missing 2>&1") || code=$?
[ "$code" = 2 ] && echo "$out" | grep -q "no such folder" || fail "bad --catalogue: $code $out"

# A binary copied away from its data says what to do.
mkdir -p "$tmp/lonely/bin" && cp "$v" "$tmp/lonely/bin/"
code=0; out=$(run "$bare $tmp/lonely/bin/v4sim models 2>&1") || code=$?
[ "$code" = 2 ] && echo "$out" | grep -q "V4SIM_DATA_DIR" || fail "copied binary: $code $out"

# The Python module from Debian's dist-packages folder under the prefix.
if [ -d "$prefix/lib/python3/dist-packages" ]; then
  out=$(run "$bare PYTHONPATH=$prefix/lib/python3/dist-packages python3 -c 'import v4sim; print(v4sim.cost(model=\"deepseek-v4-pro\", context=\"1m\")[0][\"kv_cache\"][\"bytes_per_sequence\"])'") \
    || fail "python module from the prefix: $out"
  [ "$out" -gt 0 ] || fail "python module: $out"
fi

# find_package(v4sim) from another project (built before the trees are hidden: it compiles).
cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" > "$tmp/consumer.log" 2>&1 || { cat "$tmp/consumer.log"; fail "find_package"; }
cmake --build "$tmp/consumer" > "$tmp/consumer-build.log" 2>&1 || { cat "$tmp/consumer-build.log"; fail "consumer build"; }
# A program of one's own finds the data through V4SIM_DATA_DIR (or the configured install prefix).
out=$(run "$bare V4SIM_DATA_DIR=$prefix/share/v4sim $tmp/consumer/consumer deepseek-v4-flash") || fail "consumer: $out"
echo "$out" | grep -q "^deepseek-v4-flash [0-9]" || fail "consumer: $out"
echo "install test: passed"
