#!/usr/bin/env bash
# Runs every test: starts PostgreSQL, RabbitMQ and Redis on loopback (infra/up.sh), installs the tools the
# tests use (pdftotext, fonts: infra/tools.sh), runs the whole solution's tests, then the fault check (infra/faults.sh:
# the platform as separate processes, each killed or restarted in turn while a simulated fleet sends; on the build the
# tests made and on services of its own). BILLING_FAULTS=0 leaves the fault check out (about 8 minutes here).
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/up.sh
bash infra/tools.sh
. infra/env.sh
dotnet test Billing.sln --logger "console;verbosity=normal" "$@"
# After the tests, not beside them: on two cores its load would slow them (it uses services of its own, never theirs).
[ "${BILLING_FAULTS:-1}" = 0 ] || BILLING_BUILD_CONFIGURATION=Debug BILLING_FAULTS_BUILD=0 bash infra/faults.sh
