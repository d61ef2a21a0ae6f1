#!/usr/bin/env bash
# CTest install_tree (issue 16): `cmake --install <build> --prefix <tmp>`, then the installed tree.
#   - bin/synesthesia (and, with the UI, bin/synesthesia-workbench) run --help / --version from the
#     prefix, and carry no run path into the build tree;
#   - <libdir>/libsyn_spm_shim.so is the shim the installed CLI loads (LD_DEBUG shows which file
#     was mapped, in a link namespace of its own) when it tokenizes with SentencePiece (tiny T5
#     from $SYNESTHESIA_SHARED), although the build tree's shim still exists;
#   - the .desktop file validates (desktop-file-validate, when installed), names the installed
#     program and icon; the icon is an SVG; README, LICENSE (GPL-3) and CITATION.cff are in the doc dir.
# Usage: check_install.sh <cmake> <build dir> <libdir> <version> <ui ON|OFF> <default shared dir>
# Exit 0 = passed, 1 = failed, 77 = the SentencePiece part skipped (shared folder absent; all else checked).
set -uo pipefail
CMAKE="$1" BUILD="$2" LIBDIR="$3" VERSION="$4" UI="$5" DEFAULT_SHARED="$6"
SHARED="${SYNESTHESIA_SHARED:-$DEFAULT_SHARED}"
PREFIX="$(mktemp -d "${TMPDIR:-/tmp}/syn-install.XXXXXX")"
trap 'rm -rf "$PREFIX"' EXIT
FAILED=0
fail() { echo "FAIL: $*" >&2; FAILED=1; }
ok() { echo "ok: $*"; }

if ! "$CMAKE" --install "$BUILD" --prefix "$PREFIX" > "$PREFIX.log" 2>&1; then
  cat "$PREFIX.log" >&2; rm -f "$PREFIX.log"
  echo "FAIL: cmake --install $BUILD --prefix $PREFIX" >&2; exit 1
fi
rm -f "$PREFIX.log"
echo "installed into $PREFIX:"; (cd "$PREFIX" && find . -type f | sort)

expect_file() { if [ -f "$PREFIX/$1" ]; then ok "$1"; else fail "$1 is not installed"; fi; }
expect_file bin/synesthesia
expect_file "$LIBDIR/libsyn_spm_shim.so"
expect_file share/doc/synesthesia/README.md
expect_file share/doc/synesthesia/LICENSE
expect_file share/doc/synesthesia/CITATION.cff
if [ "$UI" = ON ]; then
  expect_file bin/synesthesia-workbench
  expect_file share/applications/synesthesia-workbench.desktop
  expect_file share/icons/hicolor/scalable/apps/synesthesia-workbench.svg
fi
grep -q "GNU GENERAL PUBLIC LICENSE" "$PREFIX/share/doc/synesthesia/LICENSE" 2>/dev/null &&
  grep -q "Version 3, 29 June 2007" "$PREFIX/share/doc/synesthesia/LICENSE" || fail "LICENSE is not the GPL-3 text"
grep -q "^cff-version: 1.2.0" "$PREFIX/share/doc/synesthesia/CITATION.cff" 2>/dev/null || fail "CITATION.cff: no cff-version 1.2.0"
grep -q "^version: \"$VERSION\"" "$PREFIX/share/doc/synesthesia/CITATION.cff" 2>/dev/null ||
  fail "CITATION.cff's version is not the project's ($VERSION)"

# No installed binary may need the build tree.
for f in "$PREFIX"/bin/* "$PREFIX/$LIBDIR"/*.so; do
  [ -f "$f" ] || continue
  if readelf -d "$f" | grep -E "R(UN)?PATH" | grep -qF "$BUILD"; then fail "$f has a run path into the build tree"; fi
done

# The CLI from the prefix.
CLI="$PREFIX/bin/synesthesia"
out="$(env -u SYN_SPM_SHIM "$CLI" --help 2>&1)"; rc=$?
if [ $rc -eq 0 ] && grep -q "sts" <<<"$out" && grep -q "embed" <<<"$out"; then ok "synesthesia --help"
else fail "synesthesia --help (rc $rc): $out"; fi
out="$("$CLI" device 2>&1)"; rc=$?
if [ $rc -eq 0 ] && [ -n "$out" ]; then ok "synesthesia device: $(head -1 <<<"$out")"; else fail "synesthesia device (rc $rc): $out"; fi

# The workbench from the prefix (Qt's --help and --version need no display with the offscreen platform).
if [ "$UI" = ON ]; then
  GUI="$PREFIX/bin/synesthesia-workbench"
  out="$(QT_QPA_PLATFORM=offscreen "$GUI" --help 2>&1)"; rc=$?
  if [ $rc -eq 0 ] && grep -q -- "--screenshot" <<<"$out"; then ok "synesthesia-workbench --help"
  else fail "synesthesia-workbench --help (rc $rc): $out"; fi
  out="$(QT_QPA_PLATFORM=offscreen "$GUI" --version 2>&1)"; rc=$?
  if [ $rc -eq 0 ] && grep -qx "Synesthesia Workbench $VERSION" <<<"$out"; then ok "synesthesia-workbench --version: $(grep -x "Synesthesia Workbench $VERSION" <<<"$out")"
  else fail "synesthesia-workbench --version (rc $rc) should print 'Synesthesia Workbench $VERSION': $out"; fi

  DESKTOP="$PREFIX/share/applications/synesthesia-workbench.desktop"
  if command -v desktop-file-validate >/dev/null 2>&1; then
    if out="$(desktop-file-validate "$DESKTOP" 2>&1)"; then ok "desktop-file-validate ${out:+($out)}"
    else fail "desktop-file-validate: $out"; fi
  else
    echo "note: desktop-file-validate not installed (desktop-file-utils): the .desktop file was not validated"
  fi
  exec_name="$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "$DESKTOP")"
  icon_name="$(sed -n 's/^Icon=//p' "$DESKTOP")"
  [ -n "$exec_name" ] && [ -x "$PREFIX/bin/$exec_name" ] || fail ".desktop Exec=$exec_name is not an installed program"
  [ -n "$icon_name" ] && [ -f "$PREFIX/share/icons/hicolor/scalable/apps/$icon_name.svg" ] ||
    fail ".desktop Icon=$icon_name has no installed scalable icon"
  python3 - "$PREFIX/share/icons/hicolor/scalable/apps/synesthesia-workbench.svg" <<'PY' || fail "the icon is not an SVG document"
import sys, xml.dom.minidom
root = xml.dom.minidom.parse(sys.argv[1]).documentElement
assert root.tagName == "svg" and root.getAttribute("viewBox"), root.tagName
PY
fi

# The SentencePiece shim is found from the installed location: the installed CLI embeds with a
# SentencePiece (T5) tokenizer while the build tree's shim is still there to be (wrongly) picked.
MODEL="$SHARED/fixtures/models/tiny-t5-encoder"
SKIPPED=0
if [ -f "$MODEL/spiece.model" ]; then
  printf 'a photo of a dog on the beach\ntwo cats asleep on a red sofa\n' > "$PREFIX/lines.txt"
  log="$(env -u SYN_SPM_SHIM LD_DEBUG=files SYN_CACHE_DIR="$PREFIX/cache" "$CLI" embed --model "$MODEL" \
           --in "$PREFIX/lines.txt" --out "$PREFIX/emb.safetensors" --no-cache --device cpu --dtype float32 2>&1)"; rc=$?
  # LD_DEBUG lines: "file=<path> [<namespace>];  generating link map"; namespace 0 is the program's own.
  loaded="$(grep -oE 'file=[^ ]*libsyn_spm_shim\.so \[[0-9]+\]' <<<"$log" | sort -u)"
  if [ $rc -ne 0 ] || [ ! -s "$PREFIX/emb.safetensors" ]; then
    fail "installed synesthesia embed with $MODEL (rc $rc): $(grep -v '^ *[0-9]*:' <<<"$log" | tail -5)"
  elif [ -z "$loaded" ]; then
    fail "the installed CLI embedded with SentencePiece but LD_DEBUG shows no libsyn_spm_shim.so"
  else
    path="$(sed -E 's/^file=(.*) \[[0-9]+\]$/\1/' <<<"$loaded" | head -1)"
    ns="$(sed -E 's/.*\[([0-9]+)\]$/\1/' <<<"$loaded" | head -1)"
    if [ "$(wc -l <<<"$loaded")" -ne 1 ]; then fail "more than one shim was mapped: $loaded"
    elif [ "$(readlink -f "$path")" != "$(readlink -f "$PREFIX/$LIBDIR/libsyn_spm_shim.so")" ]; then
      fail "the installed CLI loaded the shim from $path, not from $PREFIX/$LIBDIR"
    elif [ "$ns" = 0 ]; then fail "the shim was loaded into the program's own link namespace, not with dlmopen"
    else ok "installed CLI loaded $path (link namespace $ns) and wrote $(wc -c < "$PREFIX/emb.safetensors") bytes"; fi
  fi
else
  echo "SKIPPED: the SentencePiece shim check needs $MODEL (set SYNESTHESIA_SHARED to the folder with fixtures/)"
  SKIPPED=1
fi

if [ $FAILED -ne 0 ]; then echo "install_tree: FAILED"; exit 1; fi
if [ $SKIPPED -ne 0 ]; then exit 77; fi
echo "install_tree: passed"
