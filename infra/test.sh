#!/usr/bin/env bash
# Runs every test: starts PostgreSQL, RabbitMQ and Redis on loopback (infra/up.sh), installs the tools the
# tests use (pdftotext, fonts: infra/tools.sh), then runs the whole solution's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/up.sh
bash infra/tools.sh
. infra/env.sh
dotnet test Billing.sln --logger "console;verbosity=normal" "$@"
