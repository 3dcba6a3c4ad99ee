"""Shared pytest setup: the Python package and the built tools."""
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

BUILD = pathlib.Path(os.environ.get("UN_BUILD_DIR", ROOT / "build"))
UN_OPT = BUILD / "bin" / "un-opt"
