"""The error tree: every error planforge raises on purpose, in one place.

* :class:`UserError` -- bad input, settings or environment: the CLI prints its message as one line and exits
  with :attr:`~UserError.exit_code` (2). Everything a person can fix is one of these.
* :class:`PlanSyntaxError` -- a plan that cannot be read. Not a failure of planforge or of the user: the
  validators turn it into a ``syntax`` verdict.
* :class:`LLMError` -- one model request that failed after retries (counted by the caller; ``fatal`` ones
  stop a run, as a :class:`RunAborted`).
* Anything else escaping a command is a bug: the CLI says "internal error, please report" and exits 3, so
  scripts can tell "invalid plans" (1) and "bad input" (2) from "planforge broke" (3).

This module imports nothing, so the pure core (tools, plans, validators) can raise these too.
"""

from __future__ import annotations

EXIT_INVALID = 1  # the command ran and found something invalid (gen validate)
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 3
EXIT_INTERRUPTED = 130


class PlanforgeError(Exception):
    """Base of every error planforge raises on purpose."""


class UserError(PlanforgeError):
    """Something the user can fix; the message is one line and names the file, field or flag."""

    exit_code = EXIT_USER_ERROR


# -- input: files, folders, flags ------------------------------------------------------------------


class InputError(UserError, ValueError):
    """An input file, folder or flag that cannot be used."""


class ToolSpecError(InputError):
    """A function definition that cannot be understood; the message names the function and the field."""


class RecipeError(InputError):
    """A recipe that cannot be used; the message names the file and the field."""


class PhraseError(RecipeError):
    """A template of a recipe's grammar that cannot be parsed; the message quotes it."""


class DatasetError(InputError):
    """A dataset folder that is missing, empty, unreadable or of the wrong kind for the command."""


class ConfigError(InputError):
    """Settings that cannot work together, found before any work starts (a model that cannot load, a flag out
    of range, a dataset without a needed column)."""


class MissingExtraError(UserError, ImportError):
    """A command needs an optional dependency group that is not installed."""

    def __init__(self, extra: str, what: str, missing: str = ""):
        detail = f" (no module {missing!r})" if missing else ""
        super().__init__(f"{what} needs the {extra} extra{detail}: pip install 'planforge[{extra}]'")
        self.extra = extra


class Interrupted(UserError):
    """Ctrl-C: what was finished is kept; the message says where and how to continue."""

    exit_code = EXIT_INTERRUPTED


# -- outputs ------------------------------------------------------------------------------------------


class OutputError(UserError, OSError):
    """An output folder that cannot be written: it exists (without --overwrite), is a file, or is locked."""


class CheckpointError(OutputError):
    """A checkpoint that cannot be resumed (another run's, or not a checkpoint); the message says what differs."""


# -- services ------------------------------------------------------------------------------------------


class ServiceError(UserError, RuntimeError):
    """A server planforge talks to cannot be used (unreachable, a wrong key, a missing dataset)."""


class ReviewError(ServiceError):
    """Anything that stops a review command (Argilla); one line, meant for the user."""


class PublishError(ServiceError):
    """A publish that cannot start (exit 2, nothing uploaded) or that failed part way (exit 1; the message says
    what was and was not uploaded)."""

    def __init__(self, message: str, exit_code: int = EXIT_USER_ERROR):
        super().__init__(message)
        self.exit_code = exit_code


class RunAborted(ServiceError):
    """A generation run that cannot go on (a wrong key, an unreachable endpoint). ``kept``: how many finished
    requests the checkpoint holds (None: unknown)."""

    def __init__(self, message: str, kept: int | None = None):
        super().__init__(message)
        self.kept = kept


class ModelUnavailableError(ServiceError):
    """A model (student, judge, evaluated model) that cannot answer at all: no model, endpoint unreachable."""


# -- not user errors -----------------------------------------------------------------------------------


class PlanSyntaxError(PlanforgeError, ValueError):
    """A plan that cannot be read. ``step`` is the 1-based step (or line) where reading failed."""

    def __init__(self, message: str, step: int | None = None):
        super().__init__(message)
        self.step = step


class LLMError(PlanforgeError, RuntimeError):
    """A model request that failed after retries. ``fatal`` errors (bad key, unknown model, unreachable
    server) stop the work; others are counted and the work goes on. ``reason``: a short code a run counts
    failures by (``timeout``, ``connection``, ``server_error``, ...; ``other`` when none is known)."""

    def __init__(self, message: str, *, fatal: bool = False, reason: str = "other"):
        super().__init__(message)
        self.fatal = fatal
        self.reason = reason


class ReplyFormatError(PlanforgeError, ValueError):
    """A teacher reply that is not the JSON it was asked for (a counted rejection, never a crash). ``code``: what
    the run counts it under (``empty_reply``, ``unreadable_reply``, ``wrong_shape``)."""

    def __init__(self, message: str, code: str = "unreadable_reply"):
        super().__init__(message)
        self.code = code


class RecordFormatError(PlanforgeError, ValueError):
    """A record in another project's format that cannot be read as an example (``gen import`` counts it under
    ``code`` and goes on)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class CorruptionError(PlanforgeError, AssertionError):
    """A corruption that should be wrong by construction passed validation and equivalence (a bug)."""


class InternalError(PlanforgeError):
    """A bug found while handling one input item; ``where`` says which (``plans.jsonl:17``)."""

    exit_code = EXIT_INTERNAL_ERROR

    def __init__(self, where: str, cause: BaseException):
        super().__init__(f"{where}: {type(cause).__name__}: {cause}")
        self.where = where
        self.cause = cause
