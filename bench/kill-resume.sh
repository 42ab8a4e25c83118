#!/usr/bin/env bash
# Kills `sharplm pretrain` with SIGKILL 20 times at random moments, resumes it each time, and checks
# that the losses at every step and the final weights equal those of an uninterrupted run. The test
# suite runs the same test with 3 kills; KILLS=N changes the count here.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARPLM_KILLS="${KILLS:-20}" dotnet test tests/SharpLM.Tests --filter "FullyQualifiedName~KillResumeTests" --logger "console;verbosity=detailed"
