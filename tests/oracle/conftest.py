"""NannyML 0.13.1 as the oracle for checks/estimated and checks/multivariate.

These tests run only in the separate environment built by ``tests/oracle/setup_nannyml_env.sh``
(NannyML is never a dependency of this project); the main suite skips this folder::

    tests/oracle/setup_nannyml_env.sh
    NML_DISABLE_USAGE_LOGGING=1 .venv-nannyml/bin/python -m pytest -q tests/oracle \\
        --confcutdir=tests/oracle -p no:cacheprovider
"""

from __future__ import annotations

import importlib.util
import os

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

collect_ignore_glob = [] if importlib.util.find_spec("nannyml") else ["test_*.py"]
