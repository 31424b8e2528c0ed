"""The scaffold's tests reuse the throwaway-venv helper of tests/examples (see plugin_venv.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
