#!/bin/bash
# run.sh - the runner behind `make fuzz`.
#   tests/fuzz/run.sh [SECONDS]     (default 60 per harness)
#
# Builds every tests/fuzz/fuzz_NAME.c with libFuzzer + ASan + UBSan into
# build/fuzz/fuzz_NAME and runs it for SECONDS on a scratch copy of
# tests/fuzz/corpus/NAME, so new inputs never land in the repo by accident.
# FUZZ_MERGE=1 merges what the run found (only inputs adding coverage) back
# into tests/fuzz/corpus/NAME.  FUZZ_FLAGS adds libFuzzer options.
# Crash inputs go to build/fuzz/artifacts/NAME/.  Exits non-zero if any
# harness failed to build or crashed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

secs="${1:-60}"
case "$secs" in
'' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
out=build/fuzz
CLANG="${CLANG:-clang}"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-std=c11 -D_GNU_SOURCE -I. -g -O1 -fno-omit-frame-pointer"

if ! command -v "$CLANG" >/dev/null; then
	echo "fuzz: $CLANG not found; install clang (tests/deps.sh does)" >&2
	exit 2
fi
shopt -s nullglob
harnesses=(tests/fuzz/fuzz_*.c)
if [ ${#harnesses[@]} -eq 0 ]; then
	echo "fuzz: no tests/fuzz/fuzz_*.c harnesses; nothing to do"
	exit 0
fi
if ! PKG_CFLAGS=$(pkg-config --cflags openssl libmnl libconfig) ||
	! PKG_LIBS=$(pkg-config --libs openssl libmnl libconfig); then
	echo "fuzz: pkg-config failed; run tests/deps.sh" >&2
	exit 2
fi

# The library code is compiled once with coverage instrumentation but no
# libFuzzer main: the libraries the Makefile archives (common/cli/ and the
# daemons' main.c hold a main()).
build_lib() {
	local src obj
	mkdir -p "$out/obj"
	libobjs=()
	for src in common/*.c policy/*.c mobiked/*.c mipd/*.c; do
		case "$src" in */main.c) continue ;; esac
		[ -e "$src" ] || continue
		obj="$out/obj/${src//\//_}.o"
		# shellcheck disable=SC2086
		$CLANG $CFLAGS $SAN -fsanitize=fuzzer-no-link $PKG_CFLAGS \
			-c -o "$obj" "$src" || return 1
		libobjs+=("$obj")
	done
}

build_harness() { # <source> <binary>
	# shellcheck disable=SC2086
	$CLANG $CFLAGS $SAN -fsanitize=fuzzer $PKG_CFLAGS -o "$2" "$1" \
		"${libobjs[@]}" $PKG_LIBS
}

# Prints libFuzzer's last status line ("#N DONE cov: ... corp: ...").
summary() {
	grep -E '^#[0-9]+' "$1" | tail -1 | tr -s ' \t' ' '
}

run_harness() { # <name> <binary>
	local name=$1 bin=$2 work="$out/corpus/$1" art="$out/artifacts/$1/"
	local log="$out/$1.log" rc
	rm -rf "$work"
	mkdir -p "$work" "$art"
	[ -d "tests/fuzz/corpus/$name" ] && cp -R "tests/fuzz/corpus/$name/." "$work/"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -timeout=25 -print_final_stats=1 \
		-artifact_prefix="$art" ${FUZZ_FLAGS:-} "$work" >"$log" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "fuzz_$name: CRASHED (exit $rc); log $log, inputs in $art"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5
		return 1
	fi
	echo "fuzz_$name: ok, ${secs}s: $(summary "$log")"
	if [ "${FUZZ_MERGE:-0}" = 1 ]; then
		mkdir -p "tests/fuzz/corpus/$name"
		"$bin" -merge=1 "tests/fuzz/corpus/$name" "$work" \
			>"$out/$name.merge.log" 2>&1 ||
			{ echo "fuzz_$name: merge failed, see $out/$name.merge.log"; return 1; }
		echo "fuzz_$name: merged into tests/fuzz/corpus/$name"
	fi
}

failed=()
echo "fuzz: building library objects with $CLANG"
if ! build_lib; then
	echo "fuzz: library build failed" >&2
	exit 1
fi
for src in "${harnesses[@]}"; do
	name=${src##*/fuzz_}
	name=${name%.c}
	bin="$out/fuzz_$name"
	if ! build_harness "$src" "$bin"; then
		echo "fuzz_$name: BUILD FAILED"
		failed+=("$name")
		continue
	fi
	run_harness "$name" "$bin" || failed+=("$name")
done
total=${#harnesses[@]}
echo "fuzz: $((total - ${#failed[@]})) of $total harnesses ok${failed[*]:+; failed: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
