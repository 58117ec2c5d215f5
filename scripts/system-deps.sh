#!/usr/bin/env bash
# Installs the Debian packages a fresh machine lacks, only when they are missing.
#   python    — venv support for the project's virtual environment (python3-venv); Pango and a
#               serif CJK font, which WeasyPrint lays documents out with and embeds in their PDF
#   postgres  — PostgreSQL server binaries (initdb, pg_ctl): the tests start their own server
#   browser   — Debian's chromium for the console's browser tests, and a CJK font to draw Chinese
#   lint      — node and npm, then the pinned BPMN linter (tools/bpmnlint, `npm ci`) that the
#               tests run over every shipped diagram
#   oidc      — node and npm, then the pinned OpenID Connect provider (tests/oidc, `npm ci`)
#               that the console's OIDC sign-in tests start
#   s3        — node and npm, then the pinned S3-compatible server (tests/s3, `npm ci`) that
#               the object-store tests start
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
linter="$root/tools/bpmnlint"
provider="$root/tests/oidc"
s3server="$root/tests/s3"

have_venv() { python3 -c 'import ensurepip, venv' >/dev/null 2>&1; }
have_initdb() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    return 0
  fi
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}
have_pango() { ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0"; }
have_serif_cjk() { command -v fc-list >/dev/null 2>&1 && fc-list | grep -q "Noto Serif CJK"; }
have_cjk_font() { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family)" ]; }
# npm writes node_modules/.package-lock.json on install: newer than the lockfile means current.
have_npm_packages() { [ "$1/node_modules/.package-lock.json" -nt "$1/package-lock.json" ]; }

requested=("$@")

missing=()
node=0
lint=0
oidc=0
s3=0
for need in "${requested[@]}"; do
  case "$need" in
    python)
      have_venv || missing+=(python3-venv)
      have_pango || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
      have_serif_cjk || missing+=(fonts-noto-cjk)
      ;;
    postgres) have_initdb || missing+=(postgresql) ;;
    browser)
      command -v chromium >/dev/null 2>&1 || missing+=(chromium)
      have_cjk_font || missing+=(fonts-wqy-microhei)
      ;;
    lint) lint=1; node=1 ;;
    oidc) oidc=1; node=1 ;;
    s3) s3=1; node=1 ;;
    *) echo "unknown requirement: $need" >&2; exit 2 ;;
  esac
done

if [ "$node" -eq 1 ]; then
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# As the invoking user, never sudo: exactly the versions in package-lock.json, no install scripts.
if [ "$lint" -eq 1 ] && ! have_npm_packages "$linter"; then
  echo "installing the BPMN linter (tools/bpmnlint)"
  (cd "$linter" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
if [ "$oidc" -eq 1 ] && ! have_npm_packages "$provider"; then
  echo "installing the test OpenID Connect provider (tests/oidc)"
  (cd "$provider" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
if [ "$s3" -eq 1 ] && ! have_npm_packages "$s3server"; then
  echo "installing the test S3 server (tests/s3)"
  (cd "$s3server" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
