#!/usr/bin/env bash
# Build the separate test environment in which NannyML 0.13.1 is the oracle for
# checks/estimated.py and checks/multivariate.py. NannyML is never a runtime dependency of
# this project: it pins old plotly/lightgbm and needs statsmodels without declaring it, so it
# lives in its own venv (default .venv-nannyml next to pyproject.toml).
#
#   tests/oracle/setup_nannyml_env.sh [VENV_DIR]
#   NML_DISABLE_USAGE_LOGGING=1 .venv-nannyml/bin/python -m pytest -q tests/oracle -p no:cacheprovider
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${1:-$root/.venv-nannyml}"
export NML_DISABLE_USAGE_LOGGING=1
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q "nannyml==0.13.1" statsmodels pytest
# the project itself without dev extras; after nannyml so our pins (pandas<3, ...) win where
# both constrain the same package
# NANNYML_ENV_ONLY=1 stops here (.ci/run builds this venv beside the suite, then installs the
# project once the suite's own editable install is done, so the two builds never share egg-info)
if [ "${NANNYML_ENV_ONLY:-0}" = 1 ]; then exit 0; fi
"$venv/bin/pip" install -q -e "$root"
"$venv/bin/python" -c "import nannyml, checks; print('nannyml', nannyml.__version__)"
