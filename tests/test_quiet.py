"""quiet_startup() hides TensorFlow's start-up chatter, and only that."""

import os
import subprocess
import sys

IMPORT_ALL = "from nengo_lmu.quiet import quiet_startup; quiet_startup(); import nengo_loihi, nengo_lmu.dl"


def stderr_of(code, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TF_CPP", "NENGO_LMU_VERBOSE"))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**environ, **env})
    assert out.returncode == 0, out.stderr
    return out.stderr


def test_imports_are_quiet():
    # nengo-dl (imported by nengo-loihi) resets TensorFlow's log level to 1 on import,
    # which let "TF-TRT Warning: Could not find TensorRT" through before the import hook
    assert stderr_of(IMPORT_ALL) == ""


def test_a_users_choice_is_kept():
    assert "TF-TRT" in stderr_of(IMPORT_ALL, TF_CPP_MIN_LOG_LEVEL="0")
    assert "TF-TRT" in stderr_of(IMPORT_ALL, NENGO_LMU_VERBOSE="1")
