"""One error hierarchy for spirit-infra.

Every failure the user can cause (a bad catalogue, bad stack config, bad CLI flags, a rule set a cloud
cannot hold) is a :class:`SpiritError`. The CLI prints ``str(error)`` as one line and exits with status 2.

    SpiritError
    ├── InputError            bad input: carries file, line, field and what is wrong
    │   ├── CatalogueError    the catalogue or an override file
    │   └── ConfigError       stack config, component Args or CLI options
    ├── RenderError           a valid input that a target cannot express
    │   ├── CapabilityError   a dimension the target cannot express and may not widen
    │   └── QuotaError        a limit (rule quota, priority band, name length) would be exceeded
    └── MissingExtraError     a cloud used without its SDK extra (``pip install 'spirit-infra[aws]'``);
                              also a ModuleNotFoundError, as the import it stands for
"""

from __future__ import annotations

__all__ = [
    "SpiritError",
    "InputError",
    "CatalogueError",
    "ConfigError",
    "RenderError",
    "CapabilityError",
    "QuotaError",
    "MissingExtraError",
]


class SpiritError(Exception):
    """Root of every error spirit-infra raises on purpose."""

    exit_code = 2

    def line(self) -> str:
        """The one line the CLI prints."""
        return f"error: {self}"


class InputError(SpiritError):
    """Bad input, located as precisely as we can: ``<file>[:<line>]: <field>: <what is wrong>``."""

    def __init__(self, what: str, *, file: str | None = None, line: int | None = None, field: str | None = None):
        self.what = " ".join(what.split("\n")) if "\n" in what else what  # one line, whatever the cause said
        self.file = file
        self.lineno = line
        self.field = field
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.file:
            parts.append(f"{self.file}:{self.lineno}" if self.lineno else self.file)
        if self.field:
            parts.append(self.field)
        parts.append(self.what)
        return ": ".join(parts)


class CatalogueError(InputError):
    """The catalogue (or a customer override file) is malformed."""


class ConfigError(InputError):
    """Stack config, component Args or a CLI option is invalid."""


class RenderError(SpiritError):
    """A valid input that a target platform cannot hold."""


class CapabilityError(RenderError):
    """The target cannot express a dimension and widening it was not allowed."""


class QuotaError(RenderError):
    """A platform limit would be exceeded; the message carries the figures."""


class MissingExtraError(SpiritError, ModuleNotFoundError):
    """A cloud is used but its Pulumi SDK, an optional extra, is not installed."""

    def __init__(self, cloud: str, module: str):
        self.cloud = cloud
        super().__init__(f"{cloud}: the {cloud} SDK ({module}) is not installed: "
                         f"pip install 'spirit-infra[{cloud}]'", name=module)
