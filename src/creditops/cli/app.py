"""The Typer app and what every command group shares: consoles, the --env option, the context."""

import io
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import typer
from rich.console import Console

from creditops.context import Context, from_process
from creditops.errors import CreditopsError

app = typer.Typer(
    name="creditops",
    help="Train, evaluate, register, serve and promote the credit-default model.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
EnvOption = Annotated[str, typer.Option("--env", help="dev, staging or prod")]
CommandEnv = Annotated[
    str | None, typer.Option("--env", help="Work in the store and workspace of dev, staging or prod")
]
"""--env after the command (`creditops endpoint invoke NAME --env dev`), as before it on the group."""
RequestFile = Annotated[
    Path | None,
    typer.Option(
        "--request-file", help="JSON scoring request", show_default="the sample request of the project's data contract"
    ),
]
OutputOption = Annotated[
    Literal["table", "json"], typer.Option("--output", "-o", help="table (for people) or json (stable keys)")
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show MLflow's own messages too")]

console = Console()
errors = Console(stderr=True)


def _flags_show_no_type() -> None:
    """Typer 0.2x prints a flag's type as `<bool>` in --help; a flag takes no value, so show none."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_show_no_type()


def _show_version(asked: bool) -> None:
    if asked:
        from creditops import __version__

        console.print(__version__, highlight=False)
        raise typer.Exit(0)


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_show_version, help="Print the version and exit")
    ] = False,
) -> None:
    """Train, evaluate, register, serve and promote the credit-default model."""


def stdout_is_terminal() -> bool:
    """Whether a person reads stdout; asked of the stream itself, not of rich, which FORCE_COLOR (set by
    some CI runners) would make say yes to a pipe."""
    return sys.stdout.isatty()


def emit_json(payload: Any) -> None:
    """One JSON document on stdout, keys sorted, nothing else: what `--output json` promises scripts."""
    import json

    print(json.dumps(payload, sort_keys=True, indent=2, default=str))


def context_for(env: str | None = None) -> Context:
    """The context of `env` (or of the local workspace), with its notes shown once on stderr."""
    context = from_process(env)
    for note in context.notes:
        errors.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    return context


def _use_environment(
    ctx: typer.Context,
    env: Annotated[
        str | None, typer.Option("--env", help="Work in the store and workspace of dev, staging or prod")
    ] = None,
) -> None:
    """Act on the local workspace, or on an environment's store and endpoints with --env."""
    ctx.obj = context_for(env)


def group(name: str, help_text: str, *, environment_option: bool = False) -> typer.Typer:
    """A command group; with `environment_option`, its commands find their context in `ctx.obj`."""
    made = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(made, name=name, callback=_use_environment if environment_option else None)
    return made


def group_context(ctx: typer.Context, env: str | None = None) -> Context:
    """The context of the command's --env, else of the group's --env, else of the local workspace."""
    if env is not None:
        return context_for(env)
    found = ctx.find_object(Context)
    return found if found is not None else context_for()


def api_key(variable: str | None) -> str | None:
    """The API key held by environment variable `variable` (read here, at the edge)."""
    if variable is None:
        return None
    key = os.environ.get(variable, "")
    if not key:
        raise CreditopsError(f"environment variable {variable} is empty or not set: export the API key there")
    return key


MLFLOW_CHATTER: Final = re.compile(
    r"^(Successfully registered model|Created version|Registered model .* already exists|"
    r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d INFO )"
)
"""MLflow's own progress lines (store migrations, registrations): noise beside creditops' display."""


@contextmanager
def mlflow_messages(*, shown: bool) -> Iterator[None]:
    """MLflow writes its progress lines to stderr while a command runs; hold them back and, at its end, show
    what is not chatter (a warning, an error), or everything when `shown` (--verbose)."""
    held = io.StringIO()
    try:
        with redirect_stderr(held):
            yield
    finally:
        kept = [line for line in held.getvalue().splitlines() if shown or not MLFLOW_CHATTER.match(line)]
        if kept:
            print("\n".join(kept), file=sys.stderr)
