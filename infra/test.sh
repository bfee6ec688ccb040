#!/usr/bin/env bash
# Runs every test: starts PostgreSQL, RabbitMQ and Redis on loopback (infra/up.sh), installs the tools the
# tests use (pdftotext, fonts: infra/tools.sh), runs the whole solution's tests, then, with BILLING_FAULTS=1, the
# fault check (infra/faults.sh, on the build the tests made and on services of its own). It is not on by default yet:
# it passed 6 of 7 runs on this shared machine (a RabbitMQ restart takes 28 to 85 s), and a CI run is all or nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/up.sh
bash infra/tools.sh
. infra/env.sh
dotnet test Billing.sln --logger "console;verbosity=normal" "$@"
# After the tests, not beside them: on two cores its load would slow them (it uses services of its own, never theirs).
[ "${BILLING_FAULTS:-0}" != 1 ] || BILLING_BUILD_CONFIGURATION=Debug BILLING_FAULTS_BUILD=0 bash infra/faults.sh
