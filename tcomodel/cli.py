"""Command-line interface: parse, call the library, print, set the exit status. No model logic here."""

from __future__ import annotations

import functools
import sys

import click

from tcomodel import __version__
from tcomodel.errors import InputError, TcoModelError

EXIT_INPUT_ERROR = 2


def handle_errors(func):
    """Turn tcomodel's own errors into a message on stderr and exit status 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            if exc.path:
                click.echo(f"{exc.path}: {len(exc.problems)} problem(s) found:", err=True)
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            sys.exit(EXIT_INPUT_ERROR)
        except TcoModelError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_INPUT_ERROR)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tcomodel")
def main():
    """tcomodel: cost per million tokens, NPV and IRR of self-hosted LLM inference against
    rented GPUs and hosted APIs, from one assumption workbook."""


# --- commands are added below; each is a thin wrapper around a library function ---


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@handle_errors
def init(path, force):
    """Write a starter scenario workbook to PATH (the AarhusAI default scenario with the built-in
    hardware and model catalogue). Refuses to overwrite an existing file unless --force."""
    from tcomodel.inputs import write_scenario_workbook

    if click.format_filename(path).lower().endswith(".xls"):
        raise TcoModelError("PATH must end in .xlsx")
    write_scenario_workbook(path, force=force)
    click.echo(f"wrote {path}; edit the pale-yellow cells, then: tcomodel validate {path}")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@handle_errors
def validate(path):
    """Check a scenario workbook. Exit 0 with a summary when valid; exit 2 with every problem,
    one per line as Sheet!Cell: what is wrong and what is allowed."""
    from tcomodel.inputs import load_scenario

    scenario = load_scenario(path)
    click.echo(f"{path}: valid")
    click.echo(scenario.summary())


@main.command("verify")
@click.argument("report", type=click.Path(dir_okay=False))
@click.option("--rel-tol", default=1e-9, show_default=True, help="Relative tolerance per formula cell.")
@handle_errors
def verify_cmd(report, rel_tol):
    """Recalculate REPORT.xlsx in LibreOffice and check every formula cell against its stored value."""
    from tcomodel.verify import verify_report

    result = verify_report(report, rel_tol=rel_tol)
    if result.ok:
        click.echo(result.summary())
        return
    click.echo(result.summary())
    for m in result.mismatches[:50]:
        click.echo(str(m))
    if len(result.mismatches) > 50:
        click.echo(f"... and {len(result.mismatches) - 50} more")
    sys.exit(1)
