#!/usr/bin/env bash
# The main job end to end on the embedded default table.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== The lab's google.ca query, decoded field by field"
craft decode --lab
