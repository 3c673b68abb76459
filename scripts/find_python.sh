#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or explain what to install and exit 1.
# Order: $NECC_PYTHON, python3.12, python3.13, python3, then pyenv-managed 3.12.x, 3.13.x and newer
# (3.12 first: the pinned stack in constraints.txt was resolved and tested on it).
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
try() { local p; p=$(command -v "$1" 2>/dev/null) || return 1; ok "$p" && { echo "$p"; exit 0; }; return 1; }
[ -n "${NECC_PYTHON:-}" ] && { ok "$NECC_PYTHON" && { echo "$NECC_PYTHON"; exit 0; }; echo "NECC_PYTHON=$NECC_PYTHON is not Python >= 3.12" >&2; exit 1; }
try python3.12; try python3.13; try python3
root="${PYENV_ROOT:-$HOME/.pyenv}"
for v in $(ls -1d "$root"/versions/3.12* 2>/dev/null | sort -rV) $(ls -1d "$root"/versions/3.1[3-9]* 2>/dev/null | sort -V); do
  [ -x "$v/bin/python3" ] && ok "$v/bin/python3" && { echo "$v/bin/python3"; exit 0; }
done
cat >&2 <<MSG
necc-bayes needs Python >= 3.12 (PyMC 6 / ArviZ 1 do not install on older Pythons).
None was found on PATH (python3.13, python3.12, python3) or under $root/versions.
Install one, e.g. 'pyenv install 3.12' or your system's python3.12 package,
or point NECC_PYTHON at an interpreter: make test NECC_PYTHON=/path/to/python3.12
MSG
exit 1
