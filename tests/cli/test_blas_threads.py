"""The CLI uses one BLAS thread unless the environment chooses (issue 21, cli/runtime.py).

Checked in fresh interpreters: the limit must hold for BLAS libraries loaded after ``main``
starts (the shell case) and for those already loaded (numpy imported first), and a user's
``OPENBLAS_NUM_THREADS`` is left as it is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SCRIPT = """
import json, sys
if sys.argv[1] == "numpy-first":
    import numpy
from necc_bayes.cli.runtime import limit_blas_threads
limit_blas_threads()
import numpy
from threadpoolctl import threadpool_info
print(json.dumps([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]))
"""


@pytest.mark.parametrize("order", ["limit-first", "numpy-first"])
@pytest.mark.parametrize(("env", "expected"), [(None, 1), ("2", 2)])
def test_blas_threads(order, env, expected):
    environ = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    if env is not None:
        environ["OPENBLAS_NUM_THREADS"] = env
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, order], capture_output=True, text=True, env=environ
    )
    assert proc.returncode == 0, proc.stderr
    threads = json.loads(proc.stdout)
    assert threads and all(t == expected for t in threads), threads
