"""A plugin module the start-up benchmark lists as *disabled*: importing it leaves a mark.

If the host ever imports a disabled plugin's module, this writes the file named by
``INTELLECTRA_BENCH_TRIPWIRE`` and the benchmark reports it.
"""

import os
from pathlib import Path

_mark = os.environ.get("INTELLECTRA_BENCH_TRIPWIRE")
if _mark:
    Path(_mark).write_text("imported\n")
