#!/usr/bin/env bash
# Installs what the browser tests need, if missing: Debian's Chromium
# (apt; Playwright's own browser downloads cannot work here), a CJK font so
# that the screenshots show the books' Chinese titles, and the npm packages
# of this folder (npm ci, from package-lock.json).
# Used by .ci/run before `make test`, and by e2e/browser_test.go when
# something is missing. Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export DEBIAN_FRONTEND=noninteractive

chromium=${CHROMIUM:-/usr/bin/chromium}
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }

apt_updated=false
apt_install() {
	if ! $apt_updated; then
		for try in 1 2 3; do
			as_root apt-get update -q && break
			[ "$try" -lt 3 ] || return 1
			echo "apt-get update failed; retrying" >&2
			sleep 5
		done
		apt_updated=true
	fi
	as_root apt-get install -y -q --no-install-recommends "$@" </dev/null
}

if [ ! -x "$chromium" ]; then
	echo "installing chromium (apt) ..."
	apt_install chromium
fi
# Without a CJK font the titles render as boxes; the tests pass either way.
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
	echo "installing a CJK font (apt) ..."
	apt_install fonts-wqy-microhei || echo "no CJK font: screenshots will show boxes for Chinese text" >&2
fi
"$chromium" --version 2>/dev/null | grep -i chromium

if ! command -v node >/dev/null 2>&1; then
	echo "node is missing" >&2
	exit 1
fi
# npm ci when a package is missing or not the version package.json pins.
if ! node -e 'for (const [name, want] of Object.entries(require("./package.json").devDependencies))
	if (require(`./node_modules/${name}/package.json`).version !== want) process.exit(1)' 2>/dev/null; then
	echo "npm ci in e2e/browser ..."
	npm ci --no-audit --no-fund --loglevel=error
fi
echo "node $(node --version), playwright-core $(node -p 'require("./node_modules/playwright-core/package.json").version'), axe-core $(node -p 'require("./node_modules/axe-core/package.json").version')"
