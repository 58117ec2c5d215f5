#!/usr/bin/env bash
# Installs the Debian packages a fresh machine lacks, only when they are missing.
#   python    — venv support for the project's virtual environment (python3-venv)
#   postgres  — PostgreSQL server binaries (initdb, pg_ctl): the tests start their own server
#   browser   — Debian's chromium for the console's browser tests, and a CJK font to draw Chinese
set -euo pipefail

have_venv() { python3 -c 'import ensurepip, venv' >/dev/null 2>&1; }
have_initdb() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    return 0
  fi
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}
have_cjk_font() { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family)" ]; }

missing=()
for need in "$@"; do
  case "$need" in
    python) have_venv || missing+=(python3-venv) ;;
    postgres) have_initdb || missing+=(postgresql) ;;
    browser)
      command -v chromium >/dev/null 2>&1 || missing+=(chromium)
      have_cjk_font || missing+=(fonts-wqy-microhei)
      ;;
    *) echo "unknown requirement: $need" >&2; exit 2 ;;
  esac
done

[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing system packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
