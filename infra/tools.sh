#!/usr/bin/env bash
# Installs, from Debian packages and only when missing, what the invoice exports and their tests need:
#   poppler-utils      pdftotext, which the PDF export tests read invoices back with
#   fonts-dejavu-core  DejaVu Sans (regular and bold), the font the PDF export embeds: PDFsharp finds no
#                      system fonts on Linux, so Billing.Invoicing.Exports.DejaVuFontResolver loads these files
#   chromium           the headless browser the console's browser tests drive (tests/Billing.BrowserTests)
# Idempotent; runs as root when something is missing. `apt-get update` runs only if the install fails without it.
set -euo pipefail

packages=(poppler-utils fonts-dejavu-core chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "infra/tools.sh: run as root to install ${missing[*]}" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    echo "infra/tools.sh: install failed with the current package lists; updating them and retrying" >&2
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

command -v chromium >/dev/null || { echo "infra/tools.sh: chromium missing after install" >&2; exit 1; }
command -v pdftotext >/dev/null || { echo "infra/tools.sh: pdftotext missing after install" >&2; exit 1; }
for font in DejaVuSans.ttf DejaVuSans-Bold.ttf; do
  [ -f "/usr/share/fonts/truetype/dejavu/$font" ] || { echo "infra/tools.sh: /usr/share/fonts/truetype/dejavu/$font missing after install" >&2; exit 1; }
done
