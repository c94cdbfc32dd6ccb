"""The ``spirit-infra`` command line (also ``python -m spirit_infra``), all of it in this package.

``app`` builds the parser and runs a command; ``args`` holds the flags every command shares; each other
module is one subcommand (``aws``, ``azure``, ``gcp``, ``nat``, ``preview``, ``probe``, ``dns``) with a
``register(subparsers, common)`` function. The library's packages never import this one or argparse.
"""

from __future__ import annotations

from .app import build_parser, main
from .args import add_profile_args, ascii_int, profile_from_args

__all__ = ["main", "build_parser", "add_profile_args", "profile_from_args", "ascii_int"]
