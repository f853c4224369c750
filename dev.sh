#!/usr/bin/env bash
# dev.sh: install, run and test pingxuan on Debian 12 (as root, or with sudo).
#
#   ./dev.sh demo      install, migrate SQLite, load demo data if empty, serve http://127.0.0.1:5000
#   ./dev.sh test      install, then ruff, ruff format --check, lint-imports, pytest over tests/
#   ./dev.sh install   only the install step (Debian packages, .venv, translations); idempotent
#   ./dev.sh worker    a Celery worker (needs PINGXUAN_BROKER_URL)
#   ./dev.sh serve     gunicorn wsgi:app, the production shape (PINGXUAN_BIND, default 127.0.0.1:8000)
#   ./dev.sh bench     run bench/*.py
#   ./dev.sh i18n      extract the messages and update the Chinese catalogue (pingxuan/translations)
#
# Extra arguments go to the underlying command (pytest, celery, gunicorn).
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")"
ROOT=$(pwd)
VENV="$ROOT/.venv"
STAMP="$VENV/.pingxuan-installed"
APT_PACKAGES=(
    fonts-noto-cjk        # Chinese fonts for pages and certificates
    libharfbuzz-subset0   # font subsetting: WeasyPrint (0.13 s instead of 4 s per certificate), pingxuan/pdf_fonts.py
    libpango-1.0-0 libpangoft2-1.0-0
    graphviz              # workflow diagram
    chromium              # Playwright browser tests (no `playwright install`)
    postgresql            # server binaries for throwaway test servers (the cluster service is not started)
    redis-server          # binary for throwaway test servers (not required to be running)
    poppler-utils         # pdftotext in tests
    nginx                 # binary for the reverse-proxy test (docs/deploy/nginx.conf; no service is started)
    wrk                   # load generator of bench/
)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || echo "$pkg"
    done
}

install_debian_packages() {
    local wanted=("${APT_PACKAGES[@]}")
    # Debian's own python3 cannot make a venv with pip without python3-venv (another python3, e.g. pyenv's, can).
    case "$(command -v python3 || true)" in
        "" | /usr/bin/python3) wanted+=(python3 python3-venv) ;;
    esac
    command -v git >/dev/null || wanted+=(git)
    # npm installs axe-core (package.json) for the accessibility tests. Only when there is none: a Node.js from
    # elsewhere (NodeSource) brings its own npm and conflicts with Debian's package.
    command -v npm >/dev/null || wanted+=(npm)
    local missing
    mapfile -t missing < <(missing_packages "${wanted[@]}")
    [ "${#missing[@]}" -eq 0 ] && return 0
    say "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Keep package scripts from starting services (PostgreSQL's cluster, redis-server): tests start their own.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        made_policy=1
    fi
    local lists
    lists=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' 2>/dev/null | head -1)
    if [ -z "$lists" ]; then
        as_root apt-get update -q
    fi
    local status=0
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}" || {
        # The package lists may be stale: refresh them once and retry.
        as_root apt-get update -q && as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
    } || status=$?
    if [ "$made_policy" -eq 1 ]; then as_root rm -f "$policy"; fi
    return "$status"
}

install_python() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "Creating $VENV"
        python3 -m venv "$VENV"
    fi
    local want
    want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/lint-imports" ]; then
        return 0
    fi
    say "Installing Python packages into .venv (pip install -e '.[test]')"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'
    echo "$want" >"$STAMP"
}

compile_translations() {
    local dir="$ROOT/pingxuan/translations"
    if [ -d "$dir" ] && find "$dir" -name '*.po' | grep -q .; then
        "$VENV/bin/pybabel" -q compile -d "$dir"
    fi
}

install_node_modules() {
    # package-lock.json pins axe-core; npm ci runs again only when the lock file changed.
    [ -f package-lock.json ] || return 0
    local want stamp=node_modules/.pingxuan-installed
    want=$(sha256sum package-lock.json | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    say "Installing node_modules (npm ci: axe-core for the accessibility tests)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" >"$stamp"
}

cmd_install() {
    install_debian_packages
    install_python
    install_node_modules
    compile_translations
}

flask_() { "$VENV/bin/flask" --app wsgi "$@"; }

cmd_demo() {
    cmd_install
    say "Database: ${PINGXUAN_DATABASE_URL:-SQLite in ${PINGXUAN_INSTANCE_PATH:-$ROOT/instance}}"
    flask_ db upgrade
    flask_ pingxuan demo
    if [ -z "${PINGXUAN_BROKER_URL:-}" ]; then
        say "Celery runs in-process (eager): no PINGXUAN_BROKER_URL set"
    fi
    say "pingxuan at http://127.0.0.1:5000 (Ctrl-C stops it); demo accounts above, password pingxuan-demo"
    exec "$VENV/bin/flask" --app wsgi run --host 127.0.0.1 --port 5000 "$@"
}

cmd_test() {
    cmd_install
    export PATH="$VENV/bin:$PATH"
    say "ruff check"
    ruff check .
    say "ruff format --check"
    ruff format --check .
    say "lint-imports (the import rule, .importlinter)"
    lint-imports
    say "PostgreSQL for tests: ${PINGXUAN_TEST_POSTGRES_URL:-a throwaway server started from /usr/lib/postgresql/*/bin}"
    say "Redis for tests:      ${PINGXUAN_TEST_REDIS_URL:-a throwaway redis-server}"
    say "pytest tests/"
    local status=0
    # Across processes: each worker has its own PostgreSQL and Redis database (tests/services.py).
    python -m pytest tests -n "${PINGXUAN_TEST_WORKERS:-$(nproc)}" --dist loadfile "$@" || status=$?
    if [ "$status" -eq 5 ]; then
        echo "pytest collected no tests: that is a failure here." >&2
        exit 1
    fi
    exit "$status"
}

# Every top-level package of the project (the same list tests/test_translations.py checks).
mapfile -t I18N_SOURCES < <(find . -mindepth 2 -maxdepth 2 -name __init__.py -not -path './tests/*' -printf '%h\n' | sed 's|^\./||' | sort)

cmd_i18n() {
    install_python
    local dir="$ROOT/pingxuan/translations" pot="$ROOT/pingxuan/translations/messages.pot"
    mkdir -p "$dir"
    "$VENV/bin/pybabel" -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
        --project pingxuan -o "$pot" "${I18N_SOURCES[@]}"
    if [ -f "$dir/zh_Hans_CN/LC_MESSAGES/messages.po" ]; then
        "$VENV/bin/pybabel" -q update --no-fuzzy-matching --ignore-obsolete -i "$pot" -d "$dir" -l zh_Hans_CN
        # The extraction's time stamp would differ in every branch and conflict at every merge: leave it out.
        sed -i '/^"POT-Creation-Date:/d' "$dir/zh_Hans_CN/LC_MESSAGES/messages.po"
    else
        "$VENV/bin/pybabel" -q init -i "$pot" -d "$dir" -l zh_Hans_CN
    fi
    compile_translations
    say "Catalogue: $dir/zh_Hans_CN/LC_MESSAGES/messages.po"
}

cmd_worker() {
    cmd_install
    if [ -z "${PINGXUAN_BROKER_URL:-}" ]; then
        echo "PINGXUAN_BROKER_URL is not set: without a broker tasks run in the web process and a worker gets none." >&2
        echo "Example: PINGXUAN_BROKER_URL=redis://127.0.0.1:6379/0 ./dev.sh worker" >&2
        exit 2
    fi
    exec "$VENV/bin/celery" -A shell.worker worker --loglevel=INFO "$@"
}

cmd_serve() {
    cmd_install
    flask_ db upgrade
    exec "$VENV/bin/gunicorn" --bind "${PINGXUAN_BIND:-127.0.0.1:8000}" --workers "${WEB_CONCURRENCY:-$((2 * $(nproc) + 1))}" \
        --access-logfile - "$@" wsgi:app
}

cmd_bench() {
    cmd_install
    local found=0 script
    for script in bench/*.py; do
        [ -e "$script" ] || continue
        found=1
        say "$script"
        "$VENV/bin/python" "$script" "$@"
    done
    [ "$found" -eq 1 ] || echo "No benchmarks in bench/ yet."
}

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
    install) cmd_install ;;
    demo) cmd_demo "$@" ;;
    test) cmd_test "$@" ;;
    worker) cmd_worker "$@" ;;
    serve) cmd_serve "$@" ;;
    bench) cmd_bench "$@" ;;
    i18n) cmd_i18n ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
esac
